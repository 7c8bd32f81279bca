"""The sandbox's state: one JSON document on disk, written atomically.

The document is `{section: {key: entry}}`: `projects` (LaunchDarkly, by project key) and
room for more sections (Aviator). Writes go to a temporary file that is renamed over the
state file, so a killed server never leaves a half-written file.

A server applies each mutation in memory and then awaits `StateStore.commit`, which
group-commits: mutations made while a write is running share the next write, and each
caller returns only once a write containing its change is on disk. Entries are serialised
once and cached until they change, so a write costs the changed entries plus the I/O.

A file in that layout is read an entry (a line) at a time, and equal strings and integers
are kept once: for 10,000 pipelines the document then holds about 64 MB, not 93 MB, and
the file's text is never held whole. Any other JSON is read as a whole, to the same values.
"""

import asyncio
import json
from pathlib import Path
from typing import Any

from reconciler.files import write_atomically
from reconciler.sandbox.problems import SandboxError

Document = dict[str, dict[str, Any]]
SECTIONS = ("projects",)


def empty_document() -> Document:
    return {section: {} for section in SECTIONS}


def read_document(path: Path) -> Document:
    """The state in `path`; a missing file is an empty sandbox."""
    if not path.exists():
        return empty_document()
    try:
        document = _read_by_line(path)
        if document is None:  # not the layout written here; any error is told as JSON's
            document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise SandboxError(f"{path}: cannot read the sandbox state: {error}") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise SandboxError(f"{path}: the sandbox state must be a JSON object of objects")
    for section in SECTIONS:
        document.setdefault(section, {})
    return document


_DECODER = json.JSONDecoder()


def _share_values(node: Any, seen: dict[str | int, str | int]) -> None:
    """Each string and integer in `node` replaced by the first equal one in `seen` (exact
    types only: True is not 1, 1.0 is not 1)."""
    items = node.items() if type(node) is dict else enumerate(node)
    for place, value in items:
        kind = type(value)
        if kind is str or kind is int:
            node[place] = seen.setdefault(value, value)
        elif kind is dict or kind is list:
            _share_values(value, seen)


def _key(line: str, start: int) -> tuple[str, str]:
    """The JSON string at `start` and what follows its `: `; ValueError when there is
    none."""
    key, end = _DECODER.raw_decode(line, start)
    if type(key) is not str or line[end:end + 2] != ": ":
        raise ValueError("not a key")
    return key, line[end + 2:]


def _read_by_line(path: Path) -> Document | None:
    """The document when the file is exactly in document_pieces' layout, so that it reads
    to what json.loads would make of it; else None."""
    document: Document = {}
    seen: dict[str | int, str | int] = {}
    try:
        with path.open(encoding="utf-8", newline="\n") as lines:
            if lines.readline() != "{\n":
                return None
            line = lines.readline()
            while line.startswith(' "'):  # a section
                name, rest = _key(line, 1)
                entries: dict[str, Any] = {}
                document[name] = entries
                if rest == "{\n":
                    line = lines.readline()
                    while line.startswith('  "'):  # an entry
                        key, rest = _key(line, 2)
                        value, end = _DECODER.raw_decode(rest)
                        _share_values(value, seen)
                        entries[key] = value
                        line = lines.readline()
                        if rest[end:] == "\n":
                            break  # the last entry
                        if rest[end:] != ",\n":
                            return None
                    else:
                        return None  # no entry, or a comma and then none
                    if not line.startswith(" }"):
                        return None
                    tail = line[2:]
                elif rest.startswith("{}"):
                    tail = rest[2:]
                else:
                    return None
                line = lines.readline()
                if tail == "\n":
                    break  # the last section
                if tail != ",\n":
                    return None
            else:
                if document:
                    return None  # a comma and then no section
            if line not in ("}\n", "}") or lines.read(1):
                return None
    except ValueError:  # the whole text's reading says what is wrong, and where
        return None
    return document


def document_pieces(document: Document, cache: dict[tuple[str, str], bytes] | None = None
                    ) -> list[bytes]:
    """The document as UTF-8 JSON in pieces, one entry per line so the file reads and diffs
    well. `cache` holds each entry's line by (section, key); lines missing from it are
    serialised and stored. The pieces are immutable: a snapshot that a thread can write
    while the document changes."""
    cache = {} if cache is None else cache
    pieces = [b"{"]
    for s, (section, entries) in enumerate(document.items()):
        pieces += [b",\n" if s else b"\n", f" {json.dumps(section)}: {{".encode()]
        for e, (key, entry) in enumerate(entries.items()):
            line = cache.get((section, key))
            if line is None:
                text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
                line = f"  {json.dumps(key, ensure_ascii=False)}: {text}".encode()
                cache[(section, key)] = line
            pieces += [b",\n" if e else b"\n", line]
        pieces.append(b"\n }" if entries else b"}")
    pieces.append(b"\n}\n")
    return pieces


class StateStore:
    """The document in memory plus group-committed writes to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.document = read_document(path)
        self._fragments: dict[tuple[str, str], bytes] = {}
        self._changes = 0  # mutations committed so far
        self._written = 0  # mutations contained in the file on disk
        self._write: asyncio.Task[None] | None = None

    async def commit(self, section: str, key: str) -> None:
        """Record that `document[section][key]` changed (or was removed) and return once
        the file on disk contains the change."""
        self._fragments.pop((section, key), None)
        self._changes += 1
        wanted = self._changes
        while self._written < wanted:
            if self._write is None:
                self._write = asyncio.ensure_future(self._write_all())
            # Shielded: a client that disconnects must not cancel a write others wait for.
            await asyncio.shield(self._write)

    async def _write_all(self) -> None:
        try:
            # Snapshot on the event loop, so that it is consistent; the joining, encoding
            # and writing of megabytes run in a thread.
            changes = self._changes
            pieces = document_pieces(self.document, self._fragments)
            await asyncio.to_thread(write_atomically, self.path, pieces)
            self._written = changes
        finally:
            self._write = None
