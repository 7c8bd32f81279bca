"""Writing files so that a reader never sees half of one."""

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from reconciler.errors import FileWriteError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp makes 0600 files; a written file gets the mode a plain open() would give it.
# Read once, at import: changing the umask is process-wide, so never while threads write.
_NEW_FILE_MODE = 0o666 & ~_umask()


def write_atomically(path: Path, pieces: Iterable[bytes]) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    No fsync: the rename alone guarantees a reader sees the old or the new file whole
    when the process dies; surviving power loss is not what this is for. A missing parent
    folder is created, as `--out .demo/plan.json` on a clean clone expects."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                             suffix=".tmp")
    except OSError as error:
        raise FileWriteError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(b"".join(pieces))  # one write: far cheaper than many small ones
        mode = path.stat().st_mode & 0o7777 if path.exists() else _NEW_FILE_MODE
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise FileWriteError(f"cannot write {path}: {error.strerror or error}") from None
        raise
