"""YAML syntax errors in plain words.

The parser says what it expected ("expected <block end>, but found '?'"), not what the
writer got wrong. For the mistakes people make by hand (indentation, a missing colon, a
quote or bracket never closed, tabs, a value that needs quotes) the message first says
what is likely wrong, at the line to fix, then gives the parser's own words.
"""

import re
from dataclasses import dataclass

from ruamel.yaml.error import MarkedYAMLError, StreamMark

_BLOCK_END = re.compile(r"expected <block end>, but found '(?P<found>.*)'")
_BAD_CHARACTER = re.compile(r"found character '(?P<char>.+)' that cannot start any token")
_FLOW = {
    "while parsing a flow sequence": "this '[' list is never closed with ']' (or its items "
                                     "are not separated by commas)",
    "while parsing a flow mapping": "this '{' mapping is never closed with '}' (or its "
                                    "entries are not separated by commas)",
}
_INDENTATION = "the indentation of this line does not match the lines above"


@dataclass(frozen=True)
class Explained:
    line: int  # 1-based, where the writer should look
    column: int
    message: str


def _at(mark: StreamMark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _starts_its_line(text: str, mark: StreamMark) -> bool:
    line_start = text.rfind("\n", 0, mark.index) + 1
    return text[line_start:mark.index].strip(" -") == ""


def _before_on_line(text: str, mark: StreamMark) -> str:
    return text[text.rfind("\n", 0, mark.index) + 1:mark.index]


def _hint(text: str, error: MarkedYAMLError) -> tuple[str, StreamMark] | None:
    """What is likely wrong, and the mark of the line to fix; None when unsure."""
    problem, context = error.problem or "", error.context or ""
    at, start = error.problem_mark, error.context_mark
    if at is None:
        return None
    block_end = _BLOCK_END.fullmatch(problem)
    if block_end:
        if block_end["found"] == "<scalar>" and not _starts_its_line(text, at):
            return ("unexpected text after a value: a value that starts with a quote must "
                    "end with it, so quote the whole value"), at
        return _INDENTATION, at
    if problem == "mapping values are not allowed here":
        if ": " in _before_on_line(text, at):
            return "a second ': ' on this line: put a value that holds ': ' in quotes", at
        return ("this line is indented more than the lines above allow, or the line above "
                "has no ': ' after its field name"), at
    if problem == "could not find expected ':'" and start is not None:
        return "this line has no ': ' after its field name", start
    if context == "while scanning a quoted scalar" and start is not None:
        return "this quote is never closed: add the closing quote", start
    if context in _FLOW and start is not None:
        return _FLOW[context], start
    bad = _BAD_CHARACTER.fullmatch(problem)
    if bad and bad["char"] == "\\t":
        return "a tab character: YAML indents with spaces only", at
    if bad:
        return f"a value cannot start with {bad['char']!r}: put the value in quotes", at
    return None


def explain(text: str, error: MarkedYAMLError) -> Explained:
    """The line and column to fix, and the message: plain words first when the mistake is
    a common one, then the parser's words."""
    at, start = error.problem_mark, error.context_mark
    words = error.problem or error.context or "invalid YAML"
    hint = _hint(text, error)
    where = hint[1] if hint else at or start
    if hint and at is not None and where is not at:
        words += f" at {_at(at)}"
    if error.context and error.problem and start is not None:
        words += f", {error.context} at {_at(start)}"
    line, column = (where.line + 1, where.column + 1) if where is not None else (1, 1)
    if hint is None:
        return Explained(line, column, f"YAML syntax error: {words}")
    return Explained(line, column, f"YAML syntax error: {hint[0]} (the parser says: {words})")
