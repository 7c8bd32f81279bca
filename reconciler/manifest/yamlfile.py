"""Reading one YAML file safely, keeping the line and column of every node.

Files are untrusted input: the reader refuses oversized files, text that is not UTF-8,
aliases (a few lines of anchors can expand to gigabytes: the "billion laughs"), deep
nesting, custom tags and duplicate keys, each with the position a user can jump to.
Values come out as plain Python (dict, list, str, int, float, bool, None) so that pydantic
sees exactly what was written; YAML 1.2 rules apply, so `yes` is a string, not `true`.
"""

import contextlib
import functools
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from reconciler.manifest.fastyaml import fast_values
from reconciler.manifest.tree import special_file
from reconciler.manifest.yamlerrors import explain

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 32  # a pipeline nests 7 levels deep; anything far beyond is hostile or broken

Loc = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED = {f"{_TAG}null", f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float"}
# A date such as `2024-01-01` stays the text the user wrote: no field of ours is a date.
_TEXT = {f"{_TAG}str", f"{_TAG}timestamp"}
_RESOLVED: dict[tuple[Any, ...], str] = {}
_CONSTRUCTED_VALUES: dict[tuple[str, str], Any] = {}
_MEMO_SIZE = 65_536


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


class _Refused(Exception):
    def __init__(self, position: Position, message: str) -> None:
        self.position = position
        super().__init__(message)


def _position(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _offset_position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return Position(text.count("\n", 0, offset) + 1, offset - line_start + 1)


@functools.cache
def _safe_yaml(pure: bool) -> YAML:
    # pure=False takes libyaml's C parser (ruamel.yaml.clib) when it is installed: about
    # 12x faster, which is most of the cost of reading a fleet's pipelines. One instance
    # serves every file (each parse resets it): making one looks for plug-ins on disk,
    # 0.4 ms, as much as parsing a pipeline file.
    return YAML(typ="safe", pure=pure)


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


def _syntax_problem(text: str, error: YAMLError) -> tuple[Position, str]:
    if isinstance(error, ReaderError):
        return (_offset_position(text, error.position),
                f"character U+{error.character:04X} is not allowed in YAML (binary data?)")
    if isinstance(error, MarkedYAMLError):
        explained = explain(text, error)
        return Position(explained.line, explained.column), explained.message
    return Position(1, 1), f"YAML syntax error: {error}"


@dataclass
class _Frame:
    """An open mapping or sequence while events stream in."""

    container: dict[str, Any] | list[Any]
    loc: Loc
    keep: bool  # False under a duplicate key: parsed for errors, then dropped
    key: str | None = None  # a mapping's key, read and waiting for its value
    key_position: Position = Position(1, 1)
    key_is_duplicate: bool = False
    seen: dict[str, Position] = field(default_factory=dict)


class _Builder:
    """Builds plain values straight from parser events, in one pass: aliases, extra
    documents and deep nesting are refused as they stream in, before anything grows."""

    def __init__(self, *, pure: bool) -> None:
        self._yaml = _safe_yaml(pure)
        self.positions = Positions()
        self.duplicates: list[tuple[Position, str]] = []
        self._stack: list[_Frame] = []
        self._root: Any = None

    def build(self, text: str) -> Any:
        documents = 0
        for event in self._yaml.parse(text):
            if isinstance(event, ScalarEvent | MappingStartEvent | SequenceStartEvent):
                self._node(event)
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                self._stack.pop()
            elif isinstance(event, AliasEvent):
                raise _Refused(_position(event.start_mark),
                               f"YAML aliases are not supported (*{event.anchor}): write the "
                               "value out in full")
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _Refused(_position(event.start_mark),
                                   "a second YAML document: a file holds exactly one")
        return self._root

    def _node(self, event: Any) -> None:
        parent = self._stack[-1] if self._stack else None
        if parent is not None and isinstance(parent.container, dict) and parent.key is None:
            self._key(parent, event)
            return
        position = _position(event.start_mark)
        if isinstance(event, ScalarEvent):
            value = self._scalar(event)
            if parent is not None and event.value == "" and not event.style:  # plain: C says ""
                # `name:` with nothing after it: YAML places the null on the next line.
                position = parent.key_position
        else:
            kind = "map" if isinstance(event, MappingStartEvent) else "seq"
            self._expect_tag(event, MappingNode if kind == "map" else SequenceNode, kind)
            value = {} if kind == "map" else []
        loc, keep = self._attach(parent, value)
        if keep:
            self.positions.values[loc] = position
        if isinstance(value, dict | list):
            if len(self._stack) >= MAX_DEPTH:
                raise _Refused(position, f"nested more than {MAX_DEPTH} levels deep")
            self._stack.append(_Frame(value, loc, keep))

    def _key(self, frame: _Frame, event: Any) -> None:
        position = _position(event.start_mark)
        if not isinstance(event, ScalarEvent):
            raise _Refused(position, "a mapping key must be a plain name, not a list or mapping")
        key = event.value  # the text as written: `1:` and `true:` are names too
        frame.key, frame.key_position = key, position
        frame.key_is_duplicate = key in frame.seen
        if frame.key_is_duplicate:
            self.duplicates.append(
                (position, f"duplicate key {key!r} (first at line {frame.seen[key].line})"))
        else:
            frame.seen[key] = position

    def _attach(self, parent: _Frame | None, value: Any) -> tuple[Loc, bool]:
        if parent is None:
            self._root = value
            return (), True
        if isinstance(parent.container, list):
            parent.container.append(value)
            return (*parent.loc, len(parent.container) - 1), parent.keep
        key = parent.key
        assert key is not None
        parent.key = None
        loc = (*parent.loc, key)
        if parent.key_is_duplicate:
            return loc, False
        parent.container[key] = value
        if parent.keep:
            self.positions.keys[loc] = parent.key_position
        return loc, parent.keep

    def _resolve(self, event: Any, kind: type[Node]) -> str:
        tag = event.ctag
        if tag is not None and str(tag) != "!":
            return str(tag)
        value = event.value if kind is ScalarNode else None
        # Resolution depends only on these three, and a fleet repeats the same keys and
        # values thousands of times: ruamel's resolver was half of the read time.
        memo_key = (kind, value, event.implicit)
        resolved = _RESOLVED.get(memo_key)
        if resolved is None:
            if len(_RESOLVED) >= _MEMO_SIZE:
                _RESOLVED.clear()
            resolved = _RESOLVED[memo_key] = str(
                self._yaml.resolver.resolve(kind, value, event.implicit))
        return resolved

    def _scalar(self, event: ScalarEvent) -> Any:
        tag = self._resolve(event, ScalarNode)
        if tag in _TEXT:
            return event.value
        if tag in _CONSTRUCTED:
            # null, booleans and numbers are immutable, so one constructed value serves
            # every occurrence of the same text.
            memo_key = (tag, event.value)
            if memo_key not in _CONSTRUCTED_VALUES:
                if len(_CONSTRUCTED_VALUES) >= _MEMO_SIZE:
                    _CONSTRUCTED_VALUES.clear()
                node = ScalarNode(tag, event.value, event.start_mark, event.end_mark,
                                  style=event.style)
                try:
                    value = self._yaml.constructor.construct_object(node)
                except (ValueError, ArithmeticError):
                    # ruamel resolves texts like `-_` or `+0x_` as numbers it cannot build
                    raise _Refused(_position(event.start_mark),
                                   f"{event.value!r} looks like a number but is not one; "
                                   "quote it to mean text") from None
                _CONSTRUCTED_VALUES[memo_key] = value
            return _CONSTRUCTED_VALUES[memo_key]
        raise _unsupported_tag(tag, event)

    def _expect_tag(self, event: Any, kind: type[Node], name: str) -> None:
        tag = self._resolve(event, kind)
        if tag != f"{_TAG}{name}":
            raise _unsupported_tag(tag, event)


def _unsupported_tag(tag: str, event: Any) -> _Refused:
    written = f"!!{tag.removeprefix(_TAG)}" if tag.startswith(_TAG) else tag
    return _Refused(_position(event.start_mark), f"unsupported YAML tag {written}")


class PositionsOnDemand(Positions):
    """The positions of a document's text, found by the position-keeping reader the first
    time a problem asks for one (most files never do)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text: str | None = text

    def _read(self) -> None:
        if self._text is not None:
            builder = _Builder(pure=False)
            # The text read cleanly before; were it not to now, positions would be (1, 1).
            with contextlib.suppress(_Refused, YAMLError):
                builder.build(self._text)
            self.values, self.keys = builder.positions.values, builder.positions.keys
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
    try:
        builder = _Builder(pure=False)
        data = builder.build(text)
    except (_Refused, YAMLError):
        # Refused or broken files take the pure-Python parser again: its messages and
        # positions are the ones users (and tests/badinput) see, whichever parser is fast.
        builder = _Builder(pure=True)
        data = _build_reporting(builder, text)
    if isinstance(data, Problem):
        return None, [Problem(where, data.line, data.column, data.message)]
    duplicates = [Problem(where, p.line, p.column, message) for p, message in builder.duplicates]
    return Document(data, builder.positions), duplicates


def _parse(path: Path) -> tuple[str | None, Document | None, list[Problem]]:
    text, problems = read_text(path)
    if text is None:
        return None, None, problems
    document, problems = parse_text(shown(path), text)
    return text, document, problems


def _build_reporting(builder: "_Builder", text: str) -> Any:
    """The document, or the Problem (path left blank) that stops it."""
    try:
        return builder.build(text)
    except _Refused as refused:
        return Problem("", refused.position.line, refused.position.column, str(refused))
    except YAMLError as error:
        position, message = _syntax_problem(text, error)
        return Problem("", position.line, position.column, message)


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

