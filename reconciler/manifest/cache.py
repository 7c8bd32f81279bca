"""A content-addressed cache of parsed and validated pipeline files, as ruff and mypy keep.

An entry is keyed by a digest of the file's bytes, the tool's version and the code that
decides what a valid file is (the models, the rules and the YAML reader), so an entry is
never trusted across versions or edits of that code. Only files that read with no error
and no warning are kept; a file with any problem is read in full on every run, so its
messages keep their `file:line:col`. The cache is one SQLite file: safe to delete at any
time, an entry that does not decode is ignored (and rewritten), and a cache that cannot be
opened or written is simply not used: it only ever saves time.
"""

import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from reconciler import __version__

CACHE_FILE = "parse-cache.sqlite3"
FORMAT = "2"  # the layout of an entry (2: the file's values as JSON); bump when it changes
DIR_VARIABLE = "RECONCILER_CACHE_DIR"
OFF_VARIABLE = "RECONCILER_NO_CACHE"
LOCK_SECONDS = 5.0  # another run writing the cache: wait this long, then skip the write
STALE_SECONDS = 30 * 24 * 3600  # entries no run has used for 30 days are dropped
# New entries held before they are written: a cold run over 10,000 files would otherwise
# hold every file's values as JSON (about 25 MB) until the end.
WRITE_EVERY = 500
# The code that decides what a file means (the reader, models and checks of manifest/,
# the rules): a change to any of it invalidates every entry.
_READER_SOURCES = ("manifest/*.py", "rules/*.py")

logger = logging.getLogger(__name__)


def default_directory(environ: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/reconciler`, or `~/.cache/reconciler` (the XDG default)."""
    base = environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "reconciler"


def _code_digest() -> bytes:
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(f"{FORMAT}:{__version__}".encode())
    for source in sorted(path for pattern in _READER_SOURCES for path in package.glob(pattern)):
        digest.update(source.name.encode())
        try:
            digest.update(source.read_bytes())
        except OSError:
            digest.update(b"unreadable")
    return digest.digest()


class ParseCache:
    """Lookups read the SQLite file as they come; new entries are written WRITE_EVERY at a
    time, each batch in one transaction, and the rest by `save()`. An entry stands alone
    (content-addressed), so a run that stops between batches leaves a sound cache."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / CACHE_FILE
        self._salt = _code_digest()
        self._pending: dict[str, str] = {}
        self._used: list[str] = []
        self._db: sqlite3.Connection | None = None
        self._opened = False
        self._writable = True  # until a write fails: then this run writes no more

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> "ParseCache | None":
        """The cache the environment asks for: None with RECONCILER_NO_CACHE set (to
        anything but empty or 0), else in RECONCILER_CACHE_DIR or the default folder."""
        if environ.get(OFF_VARIABLE, "") not in ("", "0"):
            return None
        directory = environ.get(DIR_VARIABLE)
        return cls(Path(directory) if directory else default_directory(environ))

    def key(self, text: str) -> str:
        return hashlib.sha256(self._salt + text.encode("utf-8", "surrogatepass")).hexdigest()

    def _connection(self) -> sqlite3.Connection | None:
        if not self._opened:
            self._opened = True
            try:
                self._db = self._open()
            except (OSError, sqlite3.Error) as error:
                logger.debug("parse cache %s not used: %s", self.path, error)
                self._db = None
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=LOCK_SECONDS, isolation_level=None)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS entries "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL, used REAL NOT NULL)")
        except sqlite3.DatabaseError:
            # Not a database (truncated, overwritten): a cache may be thrown away.
            db.close()
            self.path.unlink()
            db = sqlite3.connect(self.path, timeout=LOCK_SECONDS, isolation_level=None)
            db.execute("CREATE TABLE entries "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL, used REAL NOT NULL)")
        return db

    def get(self, text: str) -> str | None:
        """The entry (JSON text) stored for a file of exactly this text, or None."""
        db = self._connection()
        if db is None:
            return None
        key = self.key(text)
        try:
            row = db.execute("SELECT value FROM entries WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or not isinstance(row[0], str):
            return None
        self._used.append(key)
        return row[0]

    def put(self, text: str, values: Any) -> None:
        """Keep `values`, what a file of this text reads to, as JSON."""
        self._pending[self.key(text)] = json.dumps(values, separators=(",", ":"))
        if len(self._pending) >= WRITE_EVERY:
            self._write(lambda db, now: None)

    def save(self) -> None:
        """Write the new entries, mark the used ones, drop the long unused; a cache that
        cannot be written (read-only, locked too long) is left as it was."""

        def mark_and_drop(db: sqlite3.Connection, now: float) -> None:
            db.executemany("UPDATE entries SET used = ? WHERE key = ? AND used < ?",
                           [(now, key, now - STALE_SECONDS / 30) for key in self._used])
            db.execute("DELETE FROM entries WHERE used < ?", (now - STALE_SECONDS,))

        self._write(mark_and_drop)
        self._used.clear()

    def _write(self, then: Callable[[sqlite3.Connection, float], None]) -> None:
        """The pending entries, and `then`, in one transaction; dropped when it fails."""
        db = self._connection() if self._writable else None
        if db is not None:
            now = time.time()
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)",
                                   [(key, value, now) for key, value in self._pending.items()])
                    then(db, now)
            except sqlite3.Error as error:
                logger.debug("parse cache %s not written: %s", self.path, error)
                self._writable = False
        self._pending.clear()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
