"""Fitting a Markdown document under a character limit, richest form first.

A document is a head and a body of pieces. A piece is fixed text or a `Shrinkable` with
several forms, richest first, each complete Markdown on its own (no fence, table or
<details> spans two pieces), so the document is valid whichever forms are chosen:

1. level by level, every shrinkable piece takes that level's form, with that level's
   note after the head; the first level that fits wins;
2. at the last level the leanest forms are upgraded, in document order, to the
   next-to-last form while they still fit;
3. if even the leanest document is too long, it is cut between two pieces and a note
   says how many were left out.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shrinkable:
    forms: tuple[str, ...]


Piece = str | Shrinkable


def _form(piece: Piece, level: int) -> str:
    if isinstance(piece, str):
        return piece
    return piece.forms[min(level, len(piece.forms) - 1)]


def _note(text: str) -> str:
    return f"> {text}\n\n" if text else ""


def _cut(pieces: Sequence[str], limit: int, cut_note: Callable[[int], str]) -> str:
    pieces = [piece for piece in pieces if piece]  # an empty form is not an entry
    # The note for "all pieces left out" is the longest one this cut can need.
    size = len(cut_note(len(pieces)))
    if size > limit:
        raise ValueError(f"a limit of {limit} characters cannot hold even the truncation note")
    for index, piece in enumerate(pieces):
        size += len(piece)
        if size > limit:
            return "".join(pieces[:index]) + cut_note(len(pieces) - index)
    return "".join(pieces)


def fit(head: Sequence[str], body: Sequence[Piece], *, limit: int, notes: Sequence[str],
        cut_note: Callable[[int], str]) -> str:
    """The richest rendering of head + body within `limit` characters.

    `notes[level]` explains what level `level` leaves out ("" for none); there is one level
    per note. `cut_note(n)` says that the last n pieces were left out (Markdown, starting on
    a new block)."""
    shrinkables = [piece for piece in body if isinstance(piece, Shrinkable)]
    last = len(notes) - 1
    for level in range(last):
        if level and all(_form(p, level) == _form(p, level - 1) for p in shrinkables):
            continue  # this level leaves nothing out, so its note would be false
        document = "".join([*head, _note(notes[level]), *(_form(p, level) for p in body)])
        if len(document) <= limit:
            return document
    lean = [_form(piece, last) for piece in body]
    budget = limit - len("".join([*head, _note(notes[last]), *lean]))
    if budget < 0:
        return _cut([*head, *lean], limit, cut_note)
    chosen = list(lean)
    for index, piece in enumerate(body):
        if isinstance(piece, Shrinkable):
            richer = _form(piece, last - 1)
            if len(richer) - len(chosen[index]) <= budget:
                budget -= len(richer) - len(chosen[index])
                chosen[index] = richer
    return "".join([*head, _note(notes[last]), *chosen])
