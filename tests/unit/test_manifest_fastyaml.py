"""The fast YAML path may only answer where the position-keeping reader would read the same
values without a problem. The oracle is that reader (ruamel), an independent parser: every
text the fast path accepts, from the repository's files to generated and mutated ones,
must read there to equal values, problem-free."""

import math
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifest import fastyaml, yamlbuilder, yamlfile
from reconciler.manifest.yamlfile import MAX_DEPTH

REPO = Path(__file__).resolve().parents[2]
YAML_FILES = sorted(p for p in REPO.rglob("*.yaml")
                    if ".venv" not in p.parts and ".git" not in p.parts)


def slow(text: str) -> tuple[Any, list[str]]:
    """What the position-keeping reader alone makes of `text`: (values, problems)."""
    builder = yamlbuilder._Builder(pure=False)
    try:
        data = builder.build(text)
    except (yamlbuilder._Refused, yamlbuilder.YAMLError) as error:
        return None, [str(error)]
    return data, [message for _, message in builder.duplicates]


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types (True is not 1, 1.0 is not 1); NaN equals NaN."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def check(text: str) -> bool:
    """Whether the fast path took `text`; fails the test if it took it wrongly."""
    fast = fastyaml.fast_values(text, MAX_DEPTH)
    if fast is None:
        return False
    data, problems = slow(text)
    assert problems == [], (text, problems)
    assert same(fast, data), (text, fast, data)
    return True


def test_the_repositorys_files_read_the_same_both_ways() -> None:
    assert len(YAML_FILES) > 100
    taken = [p for p in YAML_FILES if check(p.read_text(encoding="utf-8", errors="replace"))]
    # The example pipelines are plain YAML: the fast path takes them.
    assert {p.name for p in taken} >= {"standard.yaml", "hotfix.yaml", "guarded-rollout.yaml"}


@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "tests" / "badinput").glob(
    "*.yaml")))
def test_no_refused_file_of_the_bad_input_contract_takes_the_fast_path(name: str) -> None:
    text = (REPO / "tests" / "badinput" / name).read_text(encoding="utf-8", errors="replace")
    if slow(text)[1]:
        assert fastyaml.fast_values(text, MAX_DEPTH) is None


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n", "a: !custom x\n", "? [a]\n: 1\n", "a: 1\n---\nb: 2\n",
    "a: 1\na: 2\n", "a:\n  b: 1\n  b: 2\n", "a: \x07\n", "a: \"\\x07\"\n", "1: x\n",
    "true: x\n", "null: x\n", "a: 1_000\n", "a: 1e3\n", "a: 0x1F\n", "a: .inf\n",
    "a: 2024-01-01\n", "a: 99999999999999999999\n", "a:\tb\n", "- a\n- b\n", "just text\n",
    "a: 'it''s'\n", "a: |\n  x\n", "%YAML 1.2\n---\na: 1\n", "a: b\r\nc: d\r\n",
])
def test_what_yaml_parsers_disagree_on_or_the_reader_refuses_takes_the_full_path(
        text: str) -> None:
    assert fastyaml.fast_values(text, MAX_DEPTH) is None


def test_nesting_too_deep_for_the_rust_parser_never_reaches_it() -> None:
    # yaml-rs overflows its stack on this (a crash, not an error); the subset stops it.
    assert fastyaml.fast_values("- " * 100_000 + "a\n", MAX_DEPTH) is None
    assert fastyaml.fast_values("a:\n" + "".join(" " * i + "a:\n" for i in range(1, 200)),
                                MAX_DEPTH) is None


@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_depth_limit_is_the_readers(depth: int) -> None:
    text = "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "a: 1\n"
    data, problems = slow(text)
    fast = fastyaml.fast_values(text, MAX_DEPTH)
    assert (fast is not None) == (problems == [])
    if fast is not None:
        assert same(fast, data)



@pytest.mark.parametrize("depth", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1])
def test_the_depth_limit_counts_lists_and_flow_lists_too(depth: int) -> None:
    # Alternating mappings and block lists, a flow list the deepest container.
    lines, indent = [], 0
    for level in range(1, depth - 1):
        if level % 2:
            lines.append(" " * indent + "a:")
        else:
            lines.append(" " * indent + "- ")
            indent += 2
    last = "a: [1]" if (depth - 1) % 2 else "- [1]"  # a mapping or a list holding it
    text = "\n".join(lines) + "\n" + " " * indent + last + "\n"
    assert (fastyaml.fast_values(text, MAX_DEPTH) is not None) == (depth <= MAX_DEPTH)
    assert check(text) == (depth <= MAX_DEPTH)


@pytest.mark.parametrize("text", [
    "a:\n  - b: 1\n    true: x\n", "a:\n  b:\n    - [c]\n    - null: 1\n",
])
def test_a_key_that_is_not_a_string_takes_the_full_path_at_any_depth(text: str) -> None:
    assert fastyaml.fast_values(text, MAX_DEPTH) is None


KEYS = st.sampled_from(["key", "name", "a", "b", "phases", "tags", "on", "yes", "true",
                        "null", "x_1", "k-2", "y", "n"])
SCALARS = st.one_of(
    st.sampled_from(["x", "yes", "no", "on", "off", "true", "True", "FALSE", "null", "Null",
                     "~", "nan", "NaN", ".nan", ".inf", "-.inf", "0", "-0", "007", "0.5",
                     "-1.25", "1e3", "1_0", "0o17", "0x1f", "+1", "2024-01-01", "1:30",
                     "a b", "a, b", "a #b", "a#b", "/x/y", "'q'", '"q"', "'a''b'", '"a\\tb"',
                     "[a, b]", "[1, 'x', yes]", "[]", "{a: 1}", "&x a", "*x", "!t a", "- x",
                     "a: b", "|", ">", "@x", "`x", "%x", "é ü", "a\u00a0b"]),
    st.text(alphabet="ab01 -_.:#,'\"[]{}!&*?%@|>~\\e+x", max_size=8),
)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    """Block YAML, nested, with any scalar; then a mutation (a line moved, a character
    inserted or deleted), since the fast path must be as right on broken input."""
    lines: list[str] = []

    def mapping(indent: int, level: int) -> None:
        for key in draw(st.lists(KEYS, min_size=1, max_size=4)):
            kind = draw(st.sampled_from(["scalar", "scalar", "map", "seq"]) if level < 3
                        else st.just("scalar"))
            if kind == "scalar":
                lines.append(f"{' ' * indent}{key}: {draw(SCALARS)}")
            elif kind == "map":
                lines.append(f"{' ' * indent}{key}:")
                mapping(indent + draw(st.sampled_from([1, 2, 4])), level + 1)
            else:
                lines.append(f"{' ' * indent}{key}:")
                for _ in range(draw(st.integers(1, 3))):
                    lead = " " * (indent + draw(st.sampled_from([0, 2])))
                    if draw(st.booleans()):
                        lines.append(f"{lead}- {draw(SCALARS)}")
                    else:
                        lines.append(f"{lead}- {draw(KEYS)}: {draw(SCALARS)}")

    mapping(0, depth)
    text = "\n".join(lines) + "\n"
    mutation = draw(st.sampled_from(["none", "none", "insert", "delete", "indent"]))
    at = draw(st.integers(0, max(0, len(text) - 1)))
    if mutation == "insert":
        text = text[:at] + draw(st.sampled_from(list(" -:#\n'\"[]&*!?\t\\,x1"))) + text[at:]
    elif mutation == "delete":
        text = text[:at] + text[at + 1:]
    elif mutation == "indent":
        text = text[:at] + "  " + text[at:]
    return text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_and_broken_documents_read_the_same_both_ways(text: str) -> None:
    check(text)


def test_parse_text_finds_positions_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "key: a\nname: A\nphases:\n  - name: P\n    audiences: []\n"
    document, problems = yamlfile.parse_text("a.yaml", text)
    assert problems == [] and document is not None
    assert document.data == {"key": "a", "name": "A",
                             "phases": [{"name": "P", "audiences": []}]}
    built: list[str] = []
    real = yamlbuilder._Builder.build

    def counting(self: yamlbuilder._Builder, source: str) -> Any:
        built.append(source)
        return real(self, source)

    monkeypatch.setattr(yamlbuilder._Builder, "build", counting)
    document, _ = yamlfile.parse_text("a.yaml", text)
    assert built == []
    assert document is not None
    # Counted by hand: `audiences` is on line 5 at column 5, its value at column 16.
    assert document.positions.key_at(("phases", 0, "audiences")) == yamlfile.Position(5, 5)
    assert document.positions.value_at(("phases", 0, "audiences")) == yamlfile.Position(5, 16)
    assert built == [text]


# The character classes as first written, positive ranges: the independent oracle for the
# negated classes the module compiles (which compile about 12 times faster).
PRINTABLE = "\\x20-\\x7e\\xa0-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffd\\U00010000-\\U0010ffff"
SPECIAL = re.escape("#:[]{}&*!|>'\"%@`?\\")
NOT_SPACE = "\\x21-\\x7e\\xa0-\\ud7ff\\ue000-\\ufefe\\uff00-\\ufffd\\U00010000-\\U0010ffff"
EVERY_CODE_POINT = "".join(map(chr, range(sys.maxunicode + 1)))


def matched(pattern: str) -> set[int]:
    return {match.start() for match in re.finditer(pattern, EVERY_CODE_POINT)}


@pytest.mark.parametrize(("written", "oracle"), [
    (fastyaml._PRINTABLE_CHAR, f"[{PRINTABLE}]"),
    (fastyaml._DOUBLE_CHAR, f'(?:(?![\\\\"])[{PRINTABLE}])'),
    (fastyaml._SINGLE_CHAR, f"(?:(?!')[{PRINTABLE}])"),
    (fastyaml._plain_char(fastyaml._SPECIAL), f"(?:(?![{SPECIAL}])[{NOT_SPACE}])"),
    (fastyaml._plain_char(fastyaml._SPECIAL + ","), f"(?:(?![{SPECIAL},])[{NOT_SPACE}])"),
], ids=["printable", "double-quoted", "single-quoted", "plain", "plain-in-a-flow-list"])
def test_each_character_class_takes_the_same_code_points_as_its_positive_ranges(
        written: str, oracle: str) -> None:
    assert len(EVERY_CODE_POINT) == 0x110000
    taken = matched(written)
    assert taken == matched(oracle)
    assert not taken & {0x09, 0x0A, 0x0D, 0x85, 0xFEFF, 0xD800, 0xFFFF}  # spot checks
