"""The pipelines tree is read safely: a symlink that leaves it is refused with its path and
its target never read; a FIFO, socket or device is refused instead of blocking."""

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.manifest import yamlfile
from reconciler.manifest.yamlfile import read_text

PIPELINE = "key: {key}\nname: {key}\nphases:\n  - name: P\n    audiences:\n      - name: A\n" \
           "        environmentKey: test\n"
SECRET = "token: SECRET-CONTENT-THAT-MUST-NOT-LEAK\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A valid `pipelines/web` project beside a secret file outside the tree."""
    (tmp_path / "pipelines/web").mkdir(parents=True)
    (tmp_path / "pipelines/web/ok.yaml").write_text(PIPELINE.format(key="ok"))
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/checkout.yaml").write_text(SECRET)
    return tmp_path


def validate(root: Path) -> subprocess.CompletedProcess[str]:
    # A subprocess with a time limit: a FIFO opened by mistake would block forever.
    return subprocess.run([sys.executable, "-m", "reconciler", "validate", "--pipelines-dir",
                           "pipelines"], cwd=root, capture_output=True, text=True, timeout=60,
                          check=False)


def assert_refused(root: Path, expected: list[str]) -> None:
    """validate fails with exactly `expected` (one problem), reads nothing outside."""
    result = validate(root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "SECRET-CONTENT" not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [*expected, "1 error in 1 file"]


def test_a_symlinked_file_that_leaves_the_tree_is_refused_unread(tree: Path) -> None:
    (tree / "pipelines/web/checkout.yaml").symlink_to(tree / "secret/checkout.yaml")
    assert_refused(tree, ["pipelines/web/checkout.yaml: a symlink that leads outside the "
                          "pipelines folder: refused, not read"])


def test_a_relative_symlink_that_climbs_out_is_refused(tree: Path) -> None:
    (tree / "pipelines/web/checkout.yaml").symlink_to("../../secret/checkout.yaml")
    assert_refused(tree, ["pipelines/web/checkout.yaml: a symlink that leads outside the "
                          "pipelines folder: refused, not read"])


def test_a_symlinked_project_folder_that_leaves_the_tree_is_refused(tree: Path) -> None:
    (tree / "pipelines/shop").symlink_to(tree / "secret")
    assert_refused(tree, ["pipelines/shop: a symlink that leads outside the pipelines "
                          "folder: refused, not read"])


def test_a_symlink_to_nothing_is_refused(tree: Path) -> None:
    (tree / "pipelines/web/gone.yaml").symlink_to(tree / "pipelines/web/nowhere.yaml")
    assert_refused(tree, ["pipelines/web/gone.yaml: a symlink to nothing: fix or remove it"])


def test_a_symlink_loop_is_refused(tree: Path) -> None:
    (tree / "pipelines/web/a.yaml").symlink_to("b.yaml")
    (tree / "pipelines/web/b.yaml").symlink_to("a.yaml")
    result = validate(tree)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "pipelines/web/a.yaml: cannot read: Too many levels of symbolic links",
        "pipelines/web/b.yaml: cannot read: Too many levels of symbolic links",
        "2 errors in 2 files"]


def test_a_symlink_inside_the_tree_is_followed(tree: Path) -> None:
    (tree / "pipelines/.shared").mkdir()
    (tree / "pipelines/.shared/checkout.yaml").write_text(PIPELINE.format(key="checkout"))
    (tree / "pipelines/web/checkout.yaml").symlink_to("../.shared/checkout.yaml")
    result = validate(tree)
    assert (result.returncode, result.stdout) == (0, "ok: 2 pipelines in 1 project\n")


def test_a_fifo_is_refused_and_never_opened(tree: Path) -> None:
    os.mkfifo(tree / "pipelines/web/checkout.yaml")
    assert_refused(tree, ["pipelines/web/checkout.yaml: a FIFO (named pipe), not a regular "
                          "file: refused"])


@pytest.fixture
def unix_socket(tree: Path) -> Iterator[Path]:
    path = tree / "pipelines/web/checkout.yaml"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    try:
        yield path
    finally:
        listener.close()


def test_a_socket_is_refused(tree: Path, unix_socket: Path) -> None:
    assert_refused(tree, ["pipelines/web/checkout.yaml: a socket, not a regular file: "
                          "refused"])


def test_a_device_is_refused(tree: Path) -> None:
    try:
        os.mknod(tree / "pipelines/web/checkout.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device file needs CAP_MKNOD")
    assert_refused(tree, ["pipelines/web/checkout.yaml: a character device, not a regular "
                          "file: refused"])


def test_read_text_itself_never_opens_a_fifo(tmp_path: Path) -> None:
    # The loader classifies entries first; read_text also guards callers that do not
    # (export, positions read on demand).
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    text, problems = read_text(fifo)
    assert text is None
    assert [p.message for p in problems] == ["a FIFO (named pipe), not a regular file: refused"]


def test_read_text_reads_on_through_short_reads(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("key: p\nname: ü\n", encoding="utf-8")
    real_read = os.read
    monkeypatch.setattr(yamlfile.os, "read", lambda fd, n: real_read(fd, min(n, 3)))
    assert read_text(path) == ("key: p\nname: ü\n", [])


def test_read_text_refuses_a_file_that_grew_past_the_limit_or_was_swapped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("key: p\n")
    real_read = os.read

    def growing(fd: int, n: int) -> bytes:  # the file grows between stat() and the read
        return real_read(fd, n) or b"x" * n

    monkeypatch.setattr(yamlfile.os, "read", growing)
    assert [p.message for p in read_text(path)[1]] == [
        "file grew past the size limit while being read"]
    monkeypatch.setattr(yamlfile.os, "read", real_read)
    fifo_mode = os.stat_result((stat.S_IFIFO | 0o600, *[0] * 9))
    monkeypatch.setattr(yamlfile.os, "fstat", lambda fd: fifo_mode)
    assert [p.message for p in read_text(path)[1]] == [
        "a FIFO (named pipe), not a regular file: refused"]
