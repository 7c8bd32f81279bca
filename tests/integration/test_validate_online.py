"""`validate --online`: every environmentKey and segmentKeys entry must exist live."""

import shutil
import subprocess
import sys
from pathlib import Path

from reconciler.sandbox import load_fixture, seed_state

REPO = Path(__file__).resolve().parents[2]


def validate(pipelines: Path, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", "--online", "--sandbox", str(state),
         "--pipelines-dir", str(pipelines)],
        capture_output=True, text=True, timeout=120, cwd=pipelines.parent)


def test_online_validation_points_at_missing_environments_and_segments(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed_state(state, load_fixture(REPO / "scripts" / "demo-live.yaml"))
    pipelines = tmp_path / "pipelines"
    shutil.copytree(REPO / "pipelines", pipelines)
    assert validate(pipelines, state).returncode == 0

    hotfix = pipelines / "web" / "hotfix.yaml"
    hotfix.write_text(hotfix.read_text().replace("environmentKey: staging",
                                                 "environmentKey: stagging"))
    standard = pipelines / "web" / "standard.yaml"
    standard.write_text(standard.read_text().replace("[qa-team]", "[qa-tem]"))
    failed = validate(pipelines, state)
    assert failed.returncode == 1
    lines = failed.stderr.splitlines()
    assert lines[0].startswith("pipelines/web/hotfix.yaml:12:25: ")
    assert "environment 'stagging' does not exist in project 'web'" in lines[0]
    assert lines[1].startswith("pipelines/web/standard.yaml:14:23: ")
    assert "segment 'qa-tem' does not exist in environment 'test'" in lines[1]
    assert lines[2] == "2 errors in 2 files"


def test_a_project_missing_live_is_reported(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed_state(state, {"projects": {"other": {"environments": ["test"], "pipelines": []}}})
    pipelines = tmp_path / "pipelines"
    shutil.copytree(REPO / "pipelines", pipelines)
    failed = validate(pipelines, state)
    assert failed.returncode == 1 and "project 'web' does not exist" in failed.stderr
