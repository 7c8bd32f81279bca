"""Two applies at once on the same project. (Live edits between plan and apply, which
make a saved plan stale, are tested in process: tests/unit/test_manager.py.)

Two applies racing end in a correct state or a clear refusal: each exits 0, or exits 1
saying the plan is stale or which step LaunchDarkly refused and why. The sandbox keeps
LaunchDarkly's rules, so no race can put a 21st pipeline in a project or delete its
default; a final apply from git converges whatever the race left.
"""

import subprocess
from pathlib import Path

import pytest
from reliability_harness import Workspace, pipeline, project

pytestmark = pytest.mark.integration

LATENCY = ("--latency-ms", "30")  # long enough for the two runs to interleave


def assert_clear(result: subprocess.CompletedProcess[str]) -> None:
    """Success, or a clear refusal: a stale plan, the failed step with LaunchDarkly's
    reason, or (a pipeline gone between two reads of the plan) the refused request."""
    assert result.returncode in (0, 1), result.stderr
    if result.returncode == 1:
        lines = result.stderr.splitlines()
        failed = [line for line in lines if line.strip().startswith("failed ") and ": " in line]
        refused = lines[-1].startswith("error: ") if lines else False
        assert failed or refused, result.stderr


def race(ws: Workspace, first: list[str], second: list[str]
         ) -> list[subprocess.CompletedProcess[str]]:
    runs = [ws.cli.start(*first, name="first"), ws.cli.start(*second, name="second")]
    return [run.wait() for run in runs]


def test_two_applies_of_the_same_plan_at_once(workspace, tmp_path: Path) -> None:
    ws = workspace({"projects": {"web": project([pipeline(f"p{i}") for i in range(10)],
                                                default="p0")}}, *LATENCY)
    ws.write("web", [*(pipeline(f"p{i}", name=f"Changed {i}") for i in range(7)),
                     pipeline("n0", isProjectDefault=True), pipeline("n1"), pipeline("n2")],
             {"prune": True})
    saved = tmp_path / "plan.json"
    assert ws.run("plan", "--out", str(saved)).returncode == 0
    results = race(ws, ["apply", str(saved)], ["apply", str(saved)])
    for result in results:
        assert_clear(result)
    assert 0 in [r.returncode for r in results]
    # Both run the same steps: a duplicate create, delete or update is absorbed.
    ws.check_invariants()
    again = ws.run("apply", str(saved))
    assert again.returncode == 1 and "plan is stale" in again.stderr
    ws.converge()
    assert set(ws.live("web")) == {*(f"p{i}" for i in range(7)), "n0", "n1", "n2"}


def test_two_applies_of_different_plans_at_once(workspace, tmp_path: Path) -> None:
    # Two merges, each correct on its own: branch A moves the default to p01 and fills the
    # project to 20; branch B deletes p01 and fills it to 20 with other pipelines.
    live = [pipeline(f"p{i:02}") for i in range(18)]
    ws = workspace({"projects": {"web": project(live, default="p00")}}, *LATENCY)
    settings = {"prune": True, "protected": ["p00"]}
    branch_a, branch_b = tmp_path / "branch-a", tmp_path / "branch-b"
    ws.write("web", [*(pipeline(f"p{i:02}") for i in range(16) if i != 1),
                     pipeline("p01", isProjectDefault=True),
                     *(pipeline(f"a{i}") for i in range(4))], settings, into=branch_a)
    ws.write("web", [pipeline("p00", isProjectDefault=True),
                     *(pipeline(f"p{i:02}") for i in range(2, 16)),
                     *(pipeline(f"b{i}") for i in range(4))], settings, into=branch_b)
    for branch in (branch_a, branch_b):
        planned = ws.run("plan", "--pipelines-dir", str(branch))
        assert planned.returncode == 0, planned.stdout
    results = race(ws, ["apply", "--yes", "--pipelines-dir", str(branch_a)],
                   ["apply", "--yes", "--pipelines-dir", str(branch_b)])
    for result in results:
        assert_clear(result)
    ws.check_invariants(refusals_allowed=True)
    # Whatever the race left, the later merge's git converges, within the rules.
    ws.converge("--pipelines-dir", str(branch_b))
    ws.check_invariants(refusals_allowed=True)
    assert set(ws.live("web")) == {"p00", *(f"p{i:02}" for i in range(2, 16)),
                                   *(f"b{i}" for i in range(4))}

