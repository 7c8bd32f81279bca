"""What an entry of `pipelines/` is, judged before anything is opened.

The tree comes from pull requests, so it is untrusted: a symlink may point at a secret
outside the repository, and a FIFO, socket or device would block or misbehave when read.
Entries are classified with lstat/stat only; none of these is ever opened.
"""

import os
import stat
from enum import Enum
from pathlib import Path

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class Kind(Enum):
    DIRECTORY = "directory"
    FILE = "file"


def special_file(mode: int) -> str:
    """What a file that is neither a directory nor a regular file is, in words."""
    for test, name in _SPECIAL:
        if test(mode):
            return name
    return "not a regular file"


def classify(entry: Path, root: Path) -> Kind | str:
    """A directory or a regular file, or why `entry` is refused. `root` is the resolved
    pipelines folder: a symlink may lead anywhere inside it, never outside."""
    try:
        info = entry.lstat()
        if stat.S_ISLNK(info.st_mode):
            target = Path(os.path.realpath(entry))
            if target != root and root not in target.parents:
                return "a symlink that leads outside the pipelines folder: refused, not read"
            try:
                info = entry.stat()
            except FileNotFoundError:
                return "a symlink to nothing: fix or remove it"
    except OSError as error:
        return f"cannot read: {error.strerror or error}"
    if stat.S_ISDIR(info.st_mode):
        return Kind.DIRECTORY
    if stat.S_ISREG(info.st_mode):
        return Kind.FILE
    return f"{special_file(info.st_mode)}, not a regular file: refused"
