"""Release policies through the CLI against a served sandbox: a refused policy mutation
stops the apply at that step (the rest not run, a rerun converges once the cause is fixed),
and bad input is one line, never a traceback."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

LIVE = {"projects": {"web": {
    "environments": ["production"],
    "policies": [{"key": "wide", "name": "Wide", "releaseMethod": "immediate-release"}],
}}}


def write(root: Path, files: dict[str, str]) -> None:
    for name, content in files.items():
        path = root / "pipelines/web" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def run(root: Path, server: Any, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_"))}
    environ.update({"LAUNCHDARKLY_BASE_URI": server.url, "LAUNCHDARKLY_ACCESS_TOKEN": "t",
                    "RECONCILER_PIPELINES_DIR": str(root / "pipelines")})
    result = subprocess.run([sys.executable, "-m", "reconciler", *args], env=environ,
                            capture_output=True, text=True, timeout=120, cwd=root)
    assert "Traceback" not in result.stderr, result.stderr
    return result


GUARDED_WITHOUT_CONFIG = "key: guarded\nname: Guarded\nreleaseMethod: guarded-release\n"
GUARDED_WITH_CONFIG = GUARDED_WITHOUT_CONFIG + (
    "guardedReleaseConfig:\n  stages: [{allocation: 10000, durationMillis: 60000}]\n")


def test_a_refused_create_fails_its_step_and_leaves_the_reorder_not_run(
        tmp_path: Path, sandbox_server) -> None:
    server = sandbox_server(LIVE, "--policy-config-required")
    write(tmp_path, {
        "release-policies/wide.yaml": "key: wide\nname: Wide, renamed\n"
                                      "releaseMethod: immediate-release\n",
        "release-policies/guarded.yaml": GUARDED_WITHOUT_CONFIG,
        "_project.yaml": "policyOrder: [guarded, wide]\n",
    })
    applied = run(tmp_path, server, "apply", "--yes")
    assert applied.returncode == 1
    lines = applied.stdout.splitlines() + applied.stderr.splitlines()
    assert "web: update wide ... done" in lines
    failed = [line for line in lines if line.startswith("web: create guarded ... failed")]
    assert len(failed) == 1 and "POST /api/v2/projects/web/release-policies" in failed[0] \
        and "400" in failed[0], lines
    assert "web: reorder policyOrder ... not run" in lines
    assert "Apply: 1 done, 1 failed, 1 not run." in lines
    # The cause fixed, a rerun creates and ranks it, and the next plan is empty.
    write(tmp_path, {"release-policies/guarded.yaml": GUARDED_WITH_CONFIG})
    rerun = run(tmp_path, server, "apply", "--yes")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert run(tmp_path, server, "plan", "--detailed-exitcode").returncode == 0


@pytest.mark.parametrize(("files", "message"), [
    ({"release-policies/wide.yaml": "key: wide\nname: Wide\nreleaseMethod: guarded_release\n"},
     "pipelines/web/release-policies/wide.yaml:3:16: releaseMethod: expected "
     "'guarded-release', 'immediate-release' or 'progressive-release', got a string "
     "('guarded_release') (did you mean 'guarded-release'?)"),
    ({"release-policies/wide.yaml": "key: wide\nname: Wide\nreleaseMethod: immediate-release\n",
      "release-policies/other.yaml": "key: other\nname: O\nreleaseMethod: immediate-release\n"},
     "pipelines/web/_project.yaml:1:1: policyOrder: 'other' missing: list every release "
     "policy once, highest priority first"),
])
def test_bad_policy_files_are_one_line_before_any_request(
        tmp_path: Path, sandbox_server, files: dict[str, str], message: str) -> None:
    server = sandbox_server(LIVE)
    write(tmp_path, {"_project.yaml": "policyOrder: [wide]\n", **files})
    for command in ("plan", "apply", "drift"):
        result = run(tmp_path, server, command, *(["--yes"] if command == "apply" else []))
        assert result.returncode == 1, result.stdout
        assert message in result.stderr.splitlines(), result.stderr


def test_an_unknown_project_is_one_line_for_policies(tmp_path: Path, sandbox_server) -> None:
    server = sandbox_server(LIVE)
    for args in (("graph", "--live", "--project", "nope"), ("export", "--project", "nope")):
        result = run(tmp_path, server, *args)
        assert result.returncode == 1
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert "404" in result.stderr and "nope" in result.stderr
