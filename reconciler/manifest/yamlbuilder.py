"""The position-keeping reader: plain values built straight from ruamel's parser events,
with the line and column of every node, refusing what yamlfile's contract refuses.

yamlfile loads it (and with it ruamel) only for a text the fast path cannot vouch for, or
when a problem asks where a fast-read value is.
"""

import contextlib
import functools
from dataclasses import dataclass, field
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

from reconciler.manifest.yamlerrors import explain
from reconciler.manifest.yamlfile import (
    MAX_DEPTH,
    Document,
    Loc,
    Position,
    Positions,
    Problem,
)

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED = {f"{_TAG}null", f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float"}
# A date such as `2024-01-01` stays the text the user wrote: no field of ours is a date.
_TEXT = {f"{_TAG}str", f"{_TAG}timestamp"}
_RESOLVED: dict[tuple[Any, ...], str] = {}
_CONSTRUCTED_VALUES: dict[tuple[str, str], Any] = {}
_MEMO_SIZE = 65_536
_FIRST = Position(1, 1)


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
    key_position: Position = _FIRST  # frozen: one instance serves every frame
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


def _build_reporting(builder: _Builder, text: str) -> Any:
    """The document, or the Problem (path left blank) that stops it."""
    try:
        return builder.build(text)
    except _Refused as refused:
        return Problem("", refused.position.line, refused.position.column, str(refused))
    except YAMLError as error:
        position, message = _syntax_problem(text, error)
        return Problem("", position.line, position.column, message)


def parse_keeping_positions(where: str, text: str) -> tuple[Document | None, list[Problem]]:
    """yamlfile.parse_text's way for a text the fast path cannot vouch for."""
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


def positions_of(text: str) -> Positions:
    """Where each value and key of a text that read cleanly before is."""
    builder = _Builder(pure=False)
    # Were it not to read cleanly now, positions would be (1, 1).
    with contextlib.suppress(_Refused, YAMLError):
        builder.build(text)
    return builder.positions
