"""A first import of many projects: `export` with `--project` given more than once, through
the real CLI against the in-process sandbox, then a plan of what was written."""

import sys
from pathlib import Path

import pytest

from reconciler.cli import main
from tests.builders import pipeline, project


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reconciler", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_every_listed_project_is_written_and_plans_to_nothing(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {
        "web": project([pipeline("standard"), pipeline("hotfix")]),
        "mobile": project([pipeline("beta")]),
        "other": project([pipeline("left-out")]),
    }}))
    code, out, err = run(monkeypatch, capsys, "export", "--sandbox", state,
                         "--project", "web", "--project", "mobile", "--project", "web")
    assert code == 0, err
    assert out.splitlines()[-3:] == ["exported 2 pipelines of 'web'", "wrote "
                                     "pipelines/mobile/beta.yaml", "exported 1 pipeline of "
                                     "'mobile'"]
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yaml"))
    assert written == ["pipelines/mobile/beta.yaml", "pipelines/web/hotfix.yaml",
                       "pipelines/web/standard.yaml"]
    code, out, err = run(monkeypatch, capsys, "plan", "--sandbox", state, "--detailed-exitcode")
    assert code == 0, out + err


def test_a_project_that_cannot_be_read_writes_nothing(
        tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(seeded_state({"projects": {"web": project([pipeline("standard")])}}))
    code, _, err = run(monkeypatch, capsys, "export", "--sandbox", state,
                       "--project", "web", "--project", "missing")
    assert code == 1 and "missing" in err
    assert not (tmp_path / "pipelines").exists()
