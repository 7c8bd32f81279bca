"""write_atomically: whole files only, parent folders created, one-line errors."""

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import FileWriteError
from reconciler.files import write_atomically


def test_a_missing_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "deeper" / "plan.json"
    write_atomically(path, [b"{", b"}"])
    assert path.read_bytes() == b"{}"
    assert sorted(p.name for p in path.parent.iterdir()) == ["plan.json"]


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    path.write_bytes(b"old content that is longer")
    write_atomically(path, [b"new"])
    assert path.read_bytes() == b"new"


def test_a_folder_that_cannot_be_made_is_one_error_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_bytes(b"a file where a folder should be")
    with pytest.raises(FileWriteError, match=r"^cannot write .*taken/plan\.json: File exists$"):
        write_atomically(blocker / "plan.json", [b"{}"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_a_new_file_gets_the_umask_mode_and_an_existing_file_keeps_its_mode(
        tmp_path: Path) -> None:
    new = tmp_path / "new.yaml"
    write_atomically(new, [b"a"])
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~mask
    existing = tmp_path / "existing.yaml"
    existing.write_bytes(b"old")
    existing.chmod(0o640)
    write_atomically(existing, [b"new"])
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640

