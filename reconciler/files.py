"""Writing files so that a reader never sees half of one."""

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, pieces: Iterable[bytes]) -> None:
    """Write to a temporary file beside `path`, then rename it over `path`.

    No fsync: the rename alone guarantees a reader sees the old or the new file whole
    when the process dies; surviving power loss is not what this is for. A missing parent
    folder is created, as `--out .demo/plan.json` on a clean clone expects."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(b"".join(pieces))  # one write: far cheaper than many small ones
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
