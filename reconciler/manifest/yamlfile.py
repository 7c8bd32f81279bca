"""Reading one YAML file safely, keeping the line and column of every node.

Files are untrusted input: the reader refuses oversized files, text that is not UTF-8,
aliases (a few lines of anchors can expand to gigabytes: the "billion laughs"), deep
nesting, custom tags and duplicate keys, each with the position a user can jump to.
Values come out as plain Python (dict, list, str, int, float, bool, None) so that pydantic
sees exactly what was written; YAML 1.2 rules apply, so `yes` is a string, not `true`.
"""

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reconciler.manifest.fastyaml import fast_values
from reconciler.manifest.tree import special_file

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # a pipeline nests 7 levels deep; anything far beyond is hostile or broken

Loc = tuple[str | int, ...]


def shown(path: Path) -> str:
    """A path as users see it in messages: relative to the current directory when inside it.
    (As text: Path.relative_to for every file of a fleet was a tenth of its reading time.)"""
    text = str(path)
    if path.is_absolute():
        here = os.getcwd()
        if text == here:
            return "."
        inside = here.rstrip(os.sep) + os.sep
        if text.startswith(inside):
            return text[len(inside):]
    return text


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, printed as `path:line:column: message` (1-based; a problem about a
    directory has no line and prints as `path: message`)."""

    path: str
    line: int
    column: int
    message: str
    warning: bool = False

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}:{self.column}" if self.line else self.path
        return _printable(f"{where}: {'warning: ' if self.warning else ''}{self.message}")


def _printable(text: str) -> str:
    # Messages quote what a pull request wrote: a newline or an escape sequence in it must
    # not start a line of its own (GitHub reads `::command::` lines) or reach a terminal raw.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass
class Positions:
    """Where each value (and each mapping key) of a document starts, by location path."""

    values: dict[Loc, Position] = field(default_factory=dict)
    keys: dict[Loc, Position] = field(default_factory=dict)

    def value_at(self, loc: Loc) -> Position:
        """The value at `loc`, or the closest enclosing one (a missing field points at the
        mapping that lacks it)."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.values:
                return self.values[loc[:end]]
        return Position(1, 1)

    def key_at(self, loc: Loc) -> Position:
        return self.keys.get(loc) or self.value_at(loc)


@dataclass
class Document:
    data: Any  # None for a file without content (empty or only comments)
    positions: Positions


def _not_regular(where: str, mode: int) -> Problem:
    return Problem(where, 0, 0, f"{special_file(mode)}, not a regular file: refused")


def _read_upto(descriptor: int, limit: int) -> bytes:
    """Up to `limit` bytes, to the end of the file. Plain os.read: a buffered file object
    around the descriptor cost a fifth of reading a pipeline file."""
    chunks = []
    while limit > 0 and (chunk := os.read(descriptor, limit)):
        chunks.append(chunk)
        limit -= len(chunk)
    return b"".join(chunks)


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file's text, or the problems that make it unreadable as YAML source."""
    where = shown(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            return None, [_not_regular(where, info.st_mode)]
        size = info.st_size
        if size > MAX_FILE_BYTES:
            return None, [Problem(where, 1, 1, f"file is {size / 1024 / 1024:.1f} MiB; the "
                                               f"limit is {MAX_FILE_BYTES // 1024 // 1024} MiB")]
        # Non-blocking: were the file swapped for a FIFO after stat(), open() would wait
        # for a writer forever; fstat() then refuses what is not a regular file.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        try:
            mode = os.fstat(descriptor).st_mode
            if not stat.S_ISREG(mode):
                return None, [_not_regular(where, mode)]
            raw = _read_upto(descriptor, MAX_FILE_BYTES + 1)  # it may grow after stat()
        finally:
            os.close(descriptor)
    except OSError as error:
        return None, [Problem(where, 1, 1, f"cannot read: {error.strerror or error}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(where, 1, 1, "file grew past the size limit while being read")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        column = len(raw[line_start:error.start].decode("utf-8", "replace")) + 1
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        return None, [Problem(where, line, column,
                              f"not UTF-8 text (byte 0x{byte:02x}): save the file as UTF-8")]


class PositionsOnDemand(Positions):
    """The positions of a document's text, found by the position-keeping reader the first
    time a problem asks for one (most files never do)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text: str | None = text

    def _read(self) -> None:
        if self._text is not None:
            from reconciler.manifest.yamlbuilder import positions_of

            found = positions_of(self._text)
            self.values, self.keys = found.values, found.keys
            self._text = None

    def value_at(self, loc: Loc) -> Position:
        self._read()
        return super().value_at(loc)

    def key_at(self, loc: Loc) -> Position:
        self._read()
        return super().key_at(loc)


def parse_text(where: str, text: str) -> tuple[Document | None, list[Problem]]:
    """Parse the text of the file shown as `where` (read by read_text): by the fast path
    when it can vouch for the text, else keeping every position."""
    data = fast_values(text, MAX_DEPTH)
    if data is not None:
        return Document(data, PositionsOnDemand(text)), []
    # Only a text the fast path cannot vouch for loads ruamel (about 7 ms of imports).
    from reconciler.manifest.yamlbuilder import parse_keeping_positions

    return parse_keeping_positions(where, text)


def _parse(path: Path) -> tuple[str | None, Document | None, list[Problem]]:
    text, problems = read_text(path)
    if text is None:
        return None, None, problems
    document, problems = parse_text(shown(path), text)
    return text, document, problems


def read_document(path: Path) -> tuple[Document | None, list[Problem]]:
    """Parse one file; problems carry `file:line:col`. Duplicate keys are all reported
    and leave the rest of the document usable, so later checks still run."""
    _, document, problems = _parse(path)
    return document, problems


def check_source(path: Path) -> tuple[str | None, list[Problem]]:
    """The text of a file that is safe to hand to any YAML loader, or its problems."""
    text, _, problems = _parse(path)
    return (None, problems) if problems else (text, [])


def dotted(loc: Loc) -> str:
    """`("phases", 0, "audiences", 1, "name")` -> `phases[0].audiences[1].name`."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")

