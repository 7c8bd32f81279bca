"""A sharded matrix (`--shard i/3`) through the real CLI, against the in-process sandbox
(LaunchDarkly and Aviator) and the fake GitHub of test_github: every shard owns its PR
comment, its drift issue and its part of the Aviator outcome, and an empty shard says so.

Shard membership, worked out by hand from sha256 of the key (first 8 bytes, big-endian,
mod 3, plus 1): `web` is in shard 1, `mobile` in shard 3, and shard 2 holds neither.
"""

import json
import os
from pathlib import Path

import pytest
from fake_github import API, PULL, REPO, TOKEN, FakeGitHub

from reconciler.errors import ApiError
from reconciler.launchdarkly import LaunchDarklyClient
from tests.builders import dump_yaml, pipeline, project
from tests.entry_point import EntryPoint

SHARDS = ("1/3", "2/3", "3/3")
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
AVIATOR_TOKEN = "aviator-canary-5d4c3b2a"
FIXTURE = {
    "projects": {
        "web": project([pipeline("standard")]),
        "mobile": project([pipeline("standard"), pipeline("old-canary")]),
    },
    "aviator": {"projects": {"pipelines": {"environments": ["production"]}}},
}


class Matrix:
    def __init__(self, root: Path, state: Path, run: EntryPoint) -> None:
        self.root = root
        self.state = state
        self.run = run

    def shard(self, command: str, shard: str, *flags: str) -> tuple[int, str, str]:
        return self.run(command, "--sandbox", str(self.state), "--shard", shard, *flags)

    def git(self, project_key: str, *pipelines: dict, prune: bool = False) -> None:
        folder = self.root / "pipelines" / project_key
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
        dump_yaml({"prune": prune}, folder / "_project.yaml")
        for body in pipelines:
            dump_yaml(body, folder / f"{body['key']}.yaml")

    def aviator_statuses(self) -> list[str]:
        project_state = json.loads(self.state.read_text())["aviator"]["pipelines"]
        return [d["status"] for d in project_state.get("deployments", [])]


@pytest.fixture
def matrix(tmp_path: Path, seeded_state, monkeypatch: pytest.MonkeyPatch,
           entry_point: EntryPoint) -> Matrix:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith(("AVIATOR_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": PULL, "head": {"sha": SHA}}}))
    for name, value in {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": API,
                        "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": SHA}.items():
        monkeypatch.setenv(name, value)
    space = Matrix(tmp_path, seeded_state(FIXTURE), entry_point)
    # web: one update; mobile: old-canary is deleted (prune).
    space.git("web", pipeline("standard", name="Standard Pipeline"))
    space.git("mobile", pipeline("standard"), prune=True)
    return space


def test_each_shard_keeps_its_own_plan_comment(matrix: Matrix, github: FakeGitHub) -> None:
    for shard in SHARDS:
        code, _, err = matrix.shard("plan", shard, "--github-comment")
        assert code == 0, err
    bodies = [c["body"] for c in github.comments_on(PULL)]
    assert len(bodies) == 3
    first, second, third = bodies  # in the order the shards posted
    assert first.startswith("<!-- reconciler:plan scope=shard-1-of-3 part 1 -->\n"
                            "**Plan for shard 1/3**")
    assert "Standard Pipeline" in first and "old-canary" not in first
    assert second.startswith("<!-- reconciler:plan scope=shard-2-of-3 part 1 -->\n")
    assert "shard 2/3 holds no projects" in second
    assert "Live matches git" not in second and "No changes" not in second
    assert "delete" in third and "old-canary" in third

    # The shards run again, in another order: each edits its own comment and no other.
    ids = [c["id"] for c in github.comments_on(PULL)]
    matrix.git("web", pipeline("standard", name="Renamed again"))
    for shard in reversed(SHARDS):
        assert matrix.shard("plan", shard, "--github-comment")[0] == 0
    after = github.comments_on(PULL)
    assert [c["id"] for c in after] == ids
    assert "Renamed again" in after[0]["body"] and "old-canary" in after[2]["body"]
    assert "holds no projects" in after[1]["body"]


def test_an_empty_shard_says_so_in_every_format(matrix: Matrix) -> None:
    code, out, _ = matrix.shard("plan", "2/3")
    assert (code, out) == (0, "Nothing to plan: shard 2/3 holds no projects.\n")
    code, out, _ = matrix.shard("plan", "2/3", "--format", "markdown")
    assert code == 0
    assert out.startswith("## Release pipelines plan\n\n"
                          "**Nothing to plan: shard 2/3 holds no projects.**\n")
    code, out, _ = matrix.shard("drift", "2/3", "--format", "markdown")
    assert code == 0  # a drift report, not a plan's heading, in the job summary too
    assert out.startswith("## Nothing to compare\n\nShard 2/3 holds no projects.")
    code, out, _ = matrix.shard("apply", "2/3", "--yes")
    assert (code, out) == (0, "Nothing to plan: shard 2/3 holds no projects.\n")


def test_a_clean_shard_never_closes_another_shards_drift_issue(
        matrix: Matrix, github: FakeGitHub) -> None:
    codes = [matrix.shard("drift", shard, "--github-issue")[0] for shard in SHARDS]
    assert codes == [2, 0, 2]
    issues = github.open_drift_issues()
    assert sorted(issue["title"] for issue in issues) == [
        "Drift: live LaunchDarkly release pipelines differ from git (shard 1/3)",
        "Drift: live LaunchDarkly release pipelines differ from git (shard 3/3)"]
    # web's drift is fixed in git; mobile's is not. Shard 1 closes its issue only.
    matrix.git("web", pipeline("standard"))
    codes = [matrix.shard("drift", shard, "--github-issue")[0] for shard in SHARDS]
    assert codes == [0, 0, 2]
    (still_open,) = github.open_drift_issues()
    assert still_open["title"].endswith("(shard 3/3)") and "old-canary" in still_open["body"]


@pytest.fixture
def aviator(matrix: Matrix, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AVIATOR_API_TOKEN": AVIATOR_TOKEN, "AVIATOR_PROJECT": "pipelines",
                        "AVIATOR_ENVIRONMENT": "production"}.items():
        monkeypatch.setenv(name, value)


def fail_mobile(monkeypatch: pytest.MonkeyPatch) -> None:
    """LaunchDarkly refuses every delete in `mobile` (shard 3's only change)."""
    real = LaunchDarklyClient.delete_pipeline

    async def delete(self: LaunchDarklyClient, project_key: str, key: str) -> None:
        if project_key == "mobile":
            raise ApiError("DELETE", f"/api/v2/projects/mobile/release-pipelines/{key}", 500,
                           "internal error")
        await real(self, project_key, key)

    monkeypatch.setattr(LaunchDarklyClient, "delete_pipeline", delete)


@pytest.mark.parametrize("order", [SHARDS, tuple(reversed(SHARDS))])
def test_a_failed_shard_is_never_masked_in_aviator(
        matrix: Matrix, aviator: None, monkeypatch: pytest.MonkeyPatch,
        order: tuple[str, ...]) -> None:
    fail_mobile(monkeypatch)
    codes = {shard: matrix.shard("apply", shard, "--yes")[0] for shard in order}
    assert codes == {"1/3": 0, "2/3": 0, "3/3": 1}
    # One deployment of the commit's version; whichever shard ran last, it says failure.
    assert matrix.aviator_statuses() == ["failure"]


def test_shards_that_all_succeed_report_success(matrix: Matrix, aviator: None) -> None:
    for shard in SHARDS:
        code, _, err = matrix.shard("apply", shard, "--yes")
        assert code == 0, err
    assert matrix.aviator_statuses() == ["success"]


def test_a_whole_run_may_clear_a_failure_its_parts_left(
        matrix: Matrix, aviator: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as faults:
        fail_mobile(faults)
        assert matrix.shard("apply", "3/3", "--yes")[0] == 1
    assert matrix.aviator_statuses() == ["failure"]
    # Re-running the whole apply covers every project, so its success is the truth.
    code, _, err = matrix.run("apply", "--sandbox", str(matrix.state), "--yes")
    assert code == 0, err
    assert matrix.aviator_statuses() == ["success"]
