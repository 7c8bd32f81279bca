"""Messages that match the facts: the first line is the right one, counts are pluralised, an
empty selection says so."""

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.sandbox import seed_state
from tests.builders import dump_yaml, pipeline, project
from tests.entry_point import EntryPoint

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entry_point: EntryPoint) -> Run:
    """The CLI as its entry point runs it (main's error handling included), in a workspace
    with one project `web` in git and live."""
    seed_state(tmp_path / "state.json", {"projects": {"web": project([pipeline("main")])}})
    (tmp_path / "pipelines" / "web").mkdir(parents=True)
    dump_yaml(pipeline("main"), tmp_path / "pipelines" / "web" / "main.yaml")
    monkeypatch.chdir(tmp_path)
    return entry_point


def test_a_project_that_has_no_folder_is_the_only_error(run: Run) -> None:
    code, out, err = run("plan", "--project", "nope", "--sandbox", "state.json")
    assert (code, out) == (1, "")
    assert err == ("pipelines/nope: no such project folder\n"
                   "1 error; nothing was read from or sent to LaunchDarkly\n")


def test_counts_are_pluralised(run: Run) -> None:
    assert run("validate") == (0, "ok: 1 pipeline in 1 project\n", "")


def test_an_empty_shard_says_so(run: Run) -> None:
    # The shard is a sha256 bucket of the key (DESIGN: stable across machines).
    bucket = int.from_bytes(hashlib.sha256(b"web").digest()[:8], "big") % 2
    empty = 2 - bucket  # the 1-based shard that does not hold `web`
    for command in ("plan", "drift"):
        code, out, _ = run(command, "--shard", f"{empty}/2", "--sandbox", "state.json")
        assert code == 0
        assert "Live matches git" not in out
        assert f"shard {empty}/2 holds no projects" in out.lower()
    code, out, _ = run("plan", "--shard", f"{bucket + 1}/2", "--sandbox", "state.json")
    assert (code, out) == (0, "No changes. Live matches git.\n")


def test_a_file_that_cannot_be_written_is_one_error_line(run: Run, tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"")  # a file where --out wants a folder
    code, _, err = run("plan", "--sandbox", "state.json", "--out", "taken/plan.json")
    assert (code, err) == (1, "error: cannot write taken/plan.json: File exists\n")
