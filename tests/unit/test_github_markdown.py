"""Splitting Markdown into comment-sized parts: sizes, exact reassembly, and parts that
each render on their own (code fences and <details> closed and reopened)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.github.markdown import Open, size, split_markdown, split_parts


def state_after(text: str) -> Open:
    state = Open()
    for line in text.splitlines():
        state = state.after(line)
    return state


def diff_block(name: str, lines: int, width: int = 60) -> str:
    body = "".join(f"+ {name} line {i} " + "x" * width + "\n" for i in range(lines))
    return (f"<details><summary>{name}: update</summary>\n\n```diff\n{body}```\n\n"
            "</details>\n\n")


def test_text_that_fits_is_one_part_unchanged() -> None:
    text = "## Plan\n\n| project | changes |\n|---|---|\n| web | 2 |\n"
    assert split_markdown(text, 1000) == [text]


def test_empty_text_is_one_empty_part() -> None:
    assert split_markdown("", 1000) == [""]


def test_cuts_between_blocks_rather_than_inside_them() -> None:
    text = "# Plan\n\n" + "".join(diff_block(f"p{i}", 10) for i in range(12))
    parts = split_parts(text, 3000)
    assert len(parts) > 2
    assert "".join(part.body for part in parts) == text
    for part in parts:
        # Every cut fell where nothing was open: no part needed closing or reopening.
        assert part.opening == part.closing == ""
        assert size(part.render()) <= 3000
        assert state_after(part.render()) == Open()


def test_a_diff_longer_than_a_part_is_closed_and_reopened() -> None:
    text = "# Plan\n\n" + diff_block("huge", 400)
    parts = split_parts(text, 5000)
    assert len(parts) > 4
    assert "".join(part.body for part in parts) == text
    for part in parts[:-1]:
        assert part.closing.endswith("```\n</details>\n")
        assert state_after(part.render()) == Open()
    for part in parts[1:]:
        assert part.opening == "<details><summary>huge: update</summary>\n\n```diff\n"
    assert all(size(part) <= 5000 for part in split_markdown(text, 5000))


def test_a_longer_fence_is_closed_with_its_own_marker() -> None:
    text = "````yaml\n" + "key: ```not a fence```\n" * 200 + "````\n"
    parts = split_parts(text, 1000)
    assert parts[0].closing == "````\n"
    assert parts[1].opening == "````yaml\n"


def test_a_line_longer_than_a_part_is_cut() -> None:
    text = "```\n" + "y" * 10_000 + "\n```\n"
    parts = split_parts(text, 1000)
    assert "".join(part.body for part in parts) == text
    assert all(size(part.render()) <= 1000 for part in parts)
    # The cut line's pieces stay inside the code block.
    assert parts[1].opening == "```\n" and parts[1].closing == "\n```\n"


def test_size_counts_utf16_units() -> None:
    assert size("a") == 1
    assert size("é") == 1
    assert size("🚀") == 2
    parts = split_markdown("🚀" * 1000, 400)
    assert all(size(part) <= 400 for part in parts)
    assert "".join(parts) == "🚀" * 1000


WORDS = st.text(alphabet="abc xyz-+|#*é🚀", max_size=300)


@st.composite
def markdown(draw: st.DrawFn, depth: int = 0) -> str:
    blocks = []
    for kind in draw(st.lists(st.sampled_from(["text", "code", "details"]), max_size=8)):
        if kind == "text":
            blocks.append("".join(line + "\n" for line in draw(st.lists(WORDS, max_size=6))))
        elif kind == "code":
            fence = draw(st.sampled_from(["```", "~~~", "````"]))
            info = draw(st.sampled_from(["", "diff", "yaml"]))
            lines = draw(st.lists(WORDS, max_size=30))
            blocks.append(f"{fence}{info}\n" + "".join(f"{line}\n" for line in lines)
                          + f"{fence}\n")
        elif depth < 2:
            summary = draw(st.text(alphabet="abc ", max_size=20))
            blocks.append(f"<details><summary>{summary}</summary>\n\n"
                          + draw(markdown(depth + 1)) + "</details>\n")
    return "\n".join(blocks)


@settings(max_examples=200, deadline=None)
@given(text=markdown(), budget=st.integers(min_value=600, max_value=4000))
def test_parts_fit_reassemble_and_render_alone(text: str, budget: int) -> None:
    parts = split_parts(text, budget)
    assert "".join(part.body for part in parts) == text
    for part in parts:
        assert size(part.render()) <= budget
    for part in parts[:-1]:
        assert state_after(part.render()) == Open()
    assert state_after(parts[-1].render()) == state_after(text)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=3000), budget=st.integers(min_value=100, max_value=1000))
def test_any_text_fits_and_reassembles(text: str, budget: int) -> None:
    parts = split_parts(text, budget)
    assert "".join(part.body for part in parts) == text
    assert all(size(part.render()) <= budget for part in parts)
