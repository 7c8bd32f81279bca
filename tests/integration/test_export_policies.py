"""`export` of release policies: files, policyOrder in `_project.yaml` (other settings
kept), the default policy only when asked; then `validate` and `plan` show no changes."""

import subprocess
import sys
from pathlib import Path

from reconciler.sandbox import seed_state

GUARDED = {"rolloutContextKindKey": "user", "minSampleSize": 100,
           "rollbackOnRegression": True, "metricKeys": ["latency", "http-errors"],
           "stages": [{"allocation": 10000, "durationMillis": 3600000},
                      {"allocation": 50000, "durationMillis": 86400000}]}
LIVE = {"projects": {"shop": {
    "environments": ["staging", "production"],
    "pipelines": [{"key": "standard", "name": "Standard", "phases": [
        {"name": "Prod", "audiences": [{"name": "All", "environmentKey": "production"}]}]}],
    "defaultPolicy": {"key": "house", "name": "House rule", "releaseMethod": "immediate-release"},
    "policies": [  # rank 1 first
        {"key": "wide", "name": "Wide", "releaseMethod": "progressive-release",
         "scope": {"environmentKeys": ["staging", "production"]},
         "progressiveReleaseConfig": {"stages": [
             {"allocation": 50000, "durationMillis": 60000}]}},
        {"key": "guarded", "name": "Guarded", "releaseMethod": "guarded-release",
         "scope": {"environmentKeys": ["production"], "flagTagKeys": ["payments"]},
         "guardedReleaseConfig": GUARDED},
        {"key": "anything", "name": "Anything", "releaseMethod": "immediate-release"},
    ],
}}}
SETTINGS = "# Shop's settings\nprune: true   # the team wants git to own everything\n"


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reconciler", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def export(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    state = tmp_path / "state.json"
    seed_state(state, LIVE)
    project = tmp_path / "pipelines/shop"
    project.mkdir(parents=True)
    (project / "_project.yaml").write_text(SETTINGS)
    return cli("export", "--sandbox", str(state), "--project", "shop",
               "--pipelines-dir", "pipelines", *extra, cwd=tmp_path)


def assert_plans_to_no_changes(tmp_path: Path) -> None:
    validated = cli("validate", "--pipelines-dir", "pipelines", cwd=tmp_path)
    assert validated.returncode == 0, validated.stdout + validated.stderr
    planned = cli("plan", "--sandbox", "state.json", "--pipelines-dir", "pipelines",
                  "--detailed-exitcode", "--format", "json", cwd=tmp_path)
    assert planned.returncode == 0, planned.stdout + planned.stderr


def test_policies_export_in_rank_order_and_plan_to_no_changes(tmp_path: Path) -> None:
    exported = export(tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.splitlines()[-1] == \
        "exported 1 pipeline and 3 release policies of 'shop'"
    folder = tmp_path / "pipelines/shop/release-policies"
    assert sorted(p.name for p in folder.iterdir()) == ["anything.yaml", "guarded.yaml",
                                                        "wide.yaml"]
    assert (tmp_path / "pipelines/shop/_project.yaml").read_text() == (
        "# yaml-language-server: $schema=../../schemas/project.schema.json\n"
        "# Shop's settings\n"
        "prune: true   # the team wants git to own everything\n"
        "policyOrder: [wide, guarded, anything]\n")
    assert (folder / "guarded.yaml").read_text() == (
        "# yaml-language-server: $schema=../../../schemas/release-policy.schema.json\n"
        "key: guarded\n"
        "name: Guarded\n"
        "releaseMethod: guarded-release\n"
        "scope:\n"
        "  environmentKeys: [production]\n"
        "  flagTagKeys: [payments]\n"
        "guardedReleaseConfig:\n"
        "  rolloutContextKindKey: user\n"
        "  minSampleSize: 100\n"
        "  rollbackOnRegression: true\n"
        "  metricKeys: [http-errors, latency]\n"
        "  stages:\n"
        "    - allocation: 10000\n"
        "      durationMillis: 3600000\n"
        "    - allocation: 50000\n"
        "      durationMillis: 86400000\n")
    assert (folder / "anything.yaml").read_text().endswith(
        "key: anything\nname: Anything\nreleaseMethod: immediate-release\n")
    # prune is on, yet the default policy (no file) is kept: it is never deleted.
    assert_plans_to_no_changes(tmp_path)


def test_the_default_policy_is_exported_only_when_asked(tmp_path: Path) -> None:
    exported = export(tmp_path, "--default-policy")
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "pipelines/shop/release-policies/house.yaml").exists()
    assert "policyOrder: [wide, guarded, anything, house]\n" in \
        (tmp_path / "pipelines/shop/_project.yaml").read_text()
    assert_plans_to_no_changes(tmp_path)


def test_a_reexport_keeps_comments_and_follows_the_live_ranking(tmp_path: Path) -> None:
    assert export(tmp_path).returncode == 0
    guarded = tmp_path / "pipelines/shop/release-policies/guarded.yaml"
    guarded.write_text(guarded.read_text().replace("name: Guarded\n",
                                                   "name: Guarded  # payments team\n"))
    order = tmp_path / "pipelines/shop/_project.yaml"
    order.write_text(order.read_text().replace("[wide, guarded, anything]",
                                               "[guarded, wide, anything]"))
    applied = cli("apply", "--sandbox", "state.json", "--pipelines-dir", "pipelines",
                  "--yes", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    order.write_text(SETTINGS)
    again = cli("export", "--sandbox", "state.json", "--project", "shop",
                "--pipelines-dir", "pipelines", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "# payments team" in guarded.read_text()
    assert order.read_text().endswith("policyOrder: [guarded, wide, anything]\n")
    assert_plans_to_no_changes(tmp_path)
