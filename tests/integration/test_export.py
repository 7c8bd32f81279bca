"""`export` then `validate` then `plan`: an imported project plans to zero changes."""

import subprocess
import sys
from pathlib import Path

from reconciler.sandbox import seed_state

GUARDED = {"releaseStrategy": "monitoredRelease", "requireApproval": True,
           "notifyMemberIds": ["5f1e2d3c4b5a697887766554"], "notifyTeamKeys": ["release-team"],
           "releaseGuardianConfiguration": {"monitoringWindowMilliseconds": 600000,
                                            "rolloutWeight": 25, "rollbackOnRegression": True,
                                            "randomizationUnit": "user"}}
RICH = {"projects": {"shop": {
    "environments": ["test", "staging", "production"],
    "segments": {"test": ["qa"], "production": ["beta", "staff"]},
    "pipelines": [
        {"key": "standard", "name": "Standard", "description": "Default path",
         "tags": ["shop", "default"], "phases": [
             {"name": "Test", "audiences": [{"name": "QA", "environmentKey": "test",
                                             "segmentKeys": ["qa"]}]},
             {"name": "Staging", "audiences": [{"name": "All", "environmentKey": "staging"}]},
             {"name": "Production", "audiences": [
                 {"name": "Beta", "environmentKey": "production", "segmentKeys": ["beta", "staff"],
                  "configuration": GUARDED},
                 {"name": "Everyone", "environmentKey": "production",
                  "configuration": {"releaseStrategy": "monitoredRelease",
                                    "requireApproval": False}}]}]},
        {"key": "legacy", "name": "Legacy", "isLegacy": True, "phases": [
            {"name": "Only", "audiences": [{"name": "Prod", "environmentKey": "production"}]}]},
        {"key": "guarded", "name": "Guarded", "tags": ["risky"], "phases": [
            {"name": "Prod", "audiences": [{"name": "Guarded", "environmentKey": "production",
                                            "configuration": GUARDED}]}]},
    ],
    "default": "guarded",
}}}


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_export_validates_and_plans_to_no_changes(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed_state(state, RICH)
    exported = cli("export", "--sandbox", str(state), "--project", "shop",
                   "--pipelines-dir", "pipelines", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    files = sorted(p.name for p in (tmp_path / "pipelines" / "shop").glob("*.yaml"))
    assert files == ["guarded.yaml", "legacy.yaml", "standard.yaml"]
    assert "isProjectDefault: true" in (tmp_path / "pipelines/shop/guarded.yaml").read_text()
    validated = cli("validate", "--pipelines-dir", "pipelines", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    planned = cli("plan", "--sandbox", str(state), "--pipelines-dir", "pipelines",
                  "--detailed-exitcode", cwd=tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "No changes" in planned.stdout


def test_reexport_keeps_comments_and_stays_clean(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    seed_state(state, RICH)
    args = ("export", "--sandbox", str(state), "--project", "shop", "--pipelines-dir", "pipelines")
    assert cli(*args, cwd=tmp_path).returncode == 0
    standard = tmp_path / "pipelines/shop/standard.yaml"
    standard.write_text(standard.read_text().replace("name: Standard\n",
                                                     "name: Standard  # owned by web team\n"))
    assert cli(*args, cwd=tmp_path).returncode == 0
    assert "# owned by web team" in standard.read_text()
    planned = cli("plan", "--sandbox", str(state), "--pipelines-dir", "pipelines",
                  "--detailed-exitcode", cwd=tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr
