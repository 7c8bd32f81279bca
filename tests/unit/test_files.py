"""write_atomically: whole files only, parent folders created."""

from pathlib import Path

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
