"""Splitting Markdown into parts that each fit one GitHub comment, without breaking it.

A part ends at a line where no code fence and no `<details>` is open whenever one at least
half full is possible. Otherwise (one huge diff) the part closes what is open and the next
part reopens it, so every part renders on its own, as Atlantis does. A line longer than a
part is cut, as a last resort. Joining the parts' bodies gives back the text exactly.
"""

import re
from dataclasses import dataclass

FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
DETAILS_TAG = re.compile(r"<(/?)details\b[^>]*>", re.IGNORECASE)


def size(text: str) -> int:
    """Length as GitHub may count it: UTF-16 code units (an emoji is 2), never less than
    the number of characters."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class Open:
    """What is open after some line: `<details>` elements (their opening lines, outermost
    first), then possibly a code fence (its opening line)."""

    details: tuple[str, ...] = ()
    fence: str | None = None

    def after(self, line: str) -> "Open":
        """The state after one whole line (without its line break)."""
        if self.fence is not None:
            marker = FENCE.fullmatch(self.fence)
            assert marker is not None
            opener = marker.group(1)
            closing = FENCE.fullmatch(line)
            if (closing and closing.group(1)[0] == opener[0]
                    and len(closing.group(1)) >= len(opener) and not closing.group(2).strip()):
                return Open(self.details)
            return self
        fence = FENCE.fullmatch(line)
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            return Open(self.details, line)
        details = list(self.details)
        for tag in DETAILS_TAG.finditer(line):
            if not tag.group(1):
                details.append(line)
            elif details:
                details.pop()
        return Open(tuple(details))

    def closing(self) -> str:
        """What closes everything open (after a line break)."""
        fence = ""
        if self.fence is not None:
            marker = FENCE.fullmatch(self.fence)
            assert marker is not None
            fence = marker.group(1) + "\n"
        return fence + "</details>\n" * len(self.details)

    def reopening(self) -> str:
        """What reopens it at the start of the next part. The blank line after each
        `<details>` line ends the HTML block, so Markdown inside renders."""
        return "".join(line + "\n\n" for line in self.details) + (
            self.fence + "\n" if self.fence is not None else "")


@dataclass(frozen=True)
class Part:
    opening: str
    body: str
    closing: str

    def render(self) -> str:
        return self.opening + self.body + self.closing


def _pieces(text: str, longest: int) -> list[tuple[str, Open]]:
    """The text as lines (cut when longer than `longest`), each with the state after it."""
    pieces: list[tuple[str, Open]] = []
    state = Open()
    for line in text.splitlines(keepends=True):
        after = state.after(line.rstrip("\r\n"))
        cuts = range(0, len(line), longest)
        for start in cuts:
            # A cut line changes nothing until its end.
            pieces.append((line[start:start + longest], after if start == cuts[-1] else state))
        state = after
    return pieces


def _wrapping(before: Open, body: str, after: Open, budget: int) -> tuple[str, str]:
    """The (opening, closing) of a part; none at all if absurdly long fences or summaries
    would crowd out the content (the sizes hold; only the rendering suffers)."""
    opening = before.reopening()
    closing = after.closing()
    if closing and not body.endswith("\n"):
        closing = "\n" + closing
    if size(opening) + size(closing) > budget // 4:
        return "", ""
    return opening, closing


def split_parts(text: str, budget: int) -> list[Part]:
    """Parts of at most `budget` (see `size`) whose bodies join into `text`."""
    if budget < 100:
        raise ValueError(f"a part budget of {budget} is too small")
    pieces = _pieces(text, budget // 8)  # at most budget // 4 UTF-16 units each
    parts: list[Part] = []
    start, before = 0, Open()
    while True:
        end, used, clean = start, 0, None
        # Take pieces while they fit, remembering the last clean (nothing open) boundary.
        while end < len(pieces):
            piece, after = pieces[end]
            opening, closing = _wrapping(before, piece, after, budget)
            if end > start and size(opening) + used + size(piece) + size(closing) > budget:
                break
            used += size(piece)
            end += 1
            if after == Open() and used >= budget // 2:
                clean = end
        if end == len(pieces):
            # The last part leaves open what the text itself leaves open.
            body = "".join(piece for piece, _ in pieces[start:])
            parts.append(Part(_wrapping(before, body, Open(), budget)[0], body, ""))
            return parts
        if clean is not None:
            end = clean
        body = "".join(piece for piece, _ in pieces[start:end])
        after = pieces[end - 1][1]
        opening, closing = _wrapping(before, body, after, budget)
        parts.append(Part(opening, body, closing))
        start, before = end, after


def split_markdown(text: str, budget: int) -> list[str]:
    """`text` as self-contained Markdown parts of at most `budget` each."""
    return [part.render() for part in split_parts(text, budget)]
