"""The orchestrator in process, against the in-process sandbox: a saved plan runs only while
it is current, with the options it was made with, and apply reports in a fixed order.

Fixture: `web` has six live pipelines (p0 the default); git keeps p0..p2 with prune on, so
the plan deletes three of six (50%): over the default 30% threshold, refused without
--force, allowed with it or with a threshold of 60%."""

import asyncio
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from reconciler.apply import ApplyReport, OnResult, StepResult, StepStatus
from reconciler.errors import StalePlan
from reconciler.manager import Connection, InvalidFiles, Manager, SavedPlan
from reconciler.plan import Action, Plan, PlanOptions
from reconciler.planfile import write_plan
from reconciler.sandbox import create_app, transport
from tests.builders import dump_yaml, pipeline, project

LD_HEADERS = {"Authorization": "sandbox-token", "LD-API-Version": "beta"}
LIVE = [pipeline(f"p{i}") for i in range(6)]
FORCED = PlanOptions(force=True)
NOTHING_GIVEN = PlanOptions()
AVIATOR = {"AVIATOR_API_TOKEN": "aviator-canary-3c2b1a", "AVIATOR_PROJECT": "web-pipelines",
           "AVIATOR_ENVIRONMENT": "production",
           "GITHUB_SHA": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
           "GITHUB_REPOSITORY": "acme/pipelines"}


def environ(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Only what a test gives, and the session's parse cache (never the user's)."""
    return {"RECONCILER_CACHE_DIR": os.environ["RECONCILER_CACHE_DIR"], **(extra or {})}


class Repo:
    def __init__(self, root: Path, state: Path) -> None:
        self.root = root
        self.state = state
        self.manager = Manager(root / "pipelines", Connection(sandbox=state), environ())

    def git(self, key: str, bodies: list[dict[str, Any]], settings: dict[str, Any]) -> None:
        folder = self.root / "pipelines" / key
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.yaml"):
            old.unlink()
        dump_yaml(settings, folder / "_project.yaml")
        for body in bodies:
            dump_yaml(body, folder / f"{body['key']}.yaml")

    def save(self, options: PlanOptions, *projects: str) -> SavedPlan:
        plan = self.manager.plan(self.manager.select(projects, None), options)
        path = self.root / "plan.json"
        write_plan(plan, path)
        return SavedPlan.load(path)

    def send(self, method: str, path: str, body: Any) -> None:
        """One request to the sandbox over HTTP, as a user in LaunchDarkly's UI would."""

        async def run() -> None:
            async with httpx.AsyncClient(transport=transport(create_app(self.state)),
                                         base_url="http://sandbox",
                                         headers=LD_HEADERS) as client:
                (await client.request(method, path, json=body)).raise_for_status()

        asyncio.run(run())

    def live(self, key: str = "web") -> dict[str, dict[str, Any]]:
        return json.loads(self.state.read_text())["projects"][key]["pipelines"]


@pytest.fixture
def repo(tmp_path: Path, seeded_state) -> Repo:
    state = seeded_state({"projects": {"web": project(LIVE, default="p0"),
                                       "api": project([pipeline("main")])},
                          "aviator": {"projects": {"web-pipelines":
                                                   {"environments": ["production"]}}}})
    space = Repo(tmp_path, state)
    space.git("web", LIVE[:3], {"prune": True})
    space.git("api", [pipeline("main")], {})
    return space


def test_a_current_saved_plan_replans_to_itself(repo: Repo) -> None:
    saved = repo.save(FORCED)
    again = repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)
    assert again.digest == saved.plan.digest
    assert [(s.action, s.key) for p in again.projects for s in p.steps] == [
        (Action.DELETE, "p3"), (Action.DELETE, "p4"), (Action.DELETE, "p5")]


def test_a_live_edit_makes_the_saved_plan_stale(repo: Repo) -> None:
    saved = repo.save(FORCED)
    repo.send("PUT", "/api/v2/projects/web/release-pipelines/p1",
              {"name": "Edited in the UI", "phases": LIVE[1]["phases"]})
    with pytest.raises(StalePlan) as stale:
        repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)
    assert str(stale.value).startswith(
        f"plan is stale: live state or git changed since {saved.source} was made "
        f"(digest {saved.plan.digest[:12]}, now ")
    assert str(stale.value).endswith("); plan again")
    assert set(repo.live("web")) == {f"p{i}" for i in range(6)}  # nothing ran


def test_a_git_edit_makes_the_saved_plan_stale(repo: Repo) -> None:
    saved = repo.save(FORCED)
    repo.git("web", [*LIVE[:2], pipeline("p2", name="Renamed in git")], {"prune": True})
    with pytest.raises(StalePlan):
        repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)


def test_undoing_the_edit_makes_the_saved_plan_current_again(repo: Repo) -> None:
    saved = repo.save(FORCED)
    repo.send("PUT", "/api/v2/projects/web/release-pipelines/p1",
              {"name": "Edited", "phases": LIVE[1]["phases"]})
    repo.send("PUT", "/api/v2/projects/web/release-pipelines/p1",
              {"name": LIVE[1]["name"], "phases": LIVE[1]["phases"]})
    again = repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)
    assert again.digest == saved.plan.digest


ROUTE = "/api/v2/projects/web/release-pipelines"
DEFAULT_TO = ("PATCH", "/api/v2/projects/web")
EDITS = {  # each edit, and how to undo it so that the saved plan is current again
    "renamed in the UI": (
        [("PUT", f"{ROUTE}/p1", {"name": "UI", "phases": LIVE[1]["phases"]})],
        [("PUT", f"{ROUTE}/p1", {"name": "P1", "phases": LIVE[1]["phases"]})]),
    "created in the UI": ([("POST", ROUTE, pipeline("by-hand"))],
                          [("DELETE", f"{ROUTE}/by-hand", None)]),
    "deleted in the UI": ([("DELETE", f"{ROUTE}/p2", None)], [("POST", ROUTE, LIVE[2])]),
    "default moved in the UI": (
        [(*DEFAULT_TO, [{"op": "replace", "path": "/defaultReleasePipelineKey", "value": "p1"}])],
        [(*DEFAULT_TO, [{"op": "replace", "path": "/defaultReleasePipelineKey", "value": "p0"}])]),
}


@pytest.mark.parametrize("what", [*EDITS, "changed in git"])
def test_each_kind_of_edit_makes_the_saved_plan_stale_until_undone(repo: Repo,
                                                                    what: str) -> None:
    saved = repo.save(FORCED)
    if what == "changed in git":
        repo.git("web", [*LIVE[:2], pipeline("p2", name="New")], {"prune": True})
    else:
        for request in EDITS[what][0]:
            repo.send(*request)
    edited = repo.state.read_text()
    with pytest.raises(StalePlan):
        repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)
    assert repo.state.read_text() == edited  # the refusal sent nothing
    if what == "changed in git":
        repo.git("web", LIVE[:3], {"prune": True})
    else:
        for request in EDITS[what][1]:
            repo.send(*request)
    again = repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)
    assert again.digest == saved.plan.digest


def test_the_saved_force_is_used_when_apply_is_given_none(repo: Repo) -> None:
    selection = repo.manager.select((), None)
    assert not repo.manager.plan(selection, NOTHING_GIVEN).applicable  # 50% needs --force
    saved = repo.save(FORCED)
    again = repo.manager.replan(saved, selection, NOTHING_GIVEN)
    assert again.applicable and again.options.force


def test_the_saved_threshold_wins_over_the_one_given(repo: Repo) -> None:
    selection = repo.manager.select((), None)
    saved = repo.save(PlanOptions(maxDeletePercent=60))
    assert saved.plan.applicable
    again = repo.manager.replan(saved, selection, PlanOptions(maxDeletePercent=30))
    assert again.applicable and again.options.maxDeletePercent == 60


def test_a_flag_given_to_apply_can_only_add_a_permission(repo: Repo) -> None:
    saved = repo.save(PlanOptions(force=True, allowActiveReleases=False, maxDeletePercent=10))
    given = PlanOptions(force=False, allowActiveReleases=True, maxDeletePercent=90)
    options = saved.options(given)
    assert (options.force, options.allowActiveReleases, options.maxDeletePercent) == \
        (True, True, 10)


def test_the_saved_plan_names_its_projects_when_apply_names_none(repo: Repo) -> None:
    saved = repo.save(FORCED, "web")
    assert saved.projects(()) == ("web",)
    assert saved.projects(("api",)) == ("api",)
    # Re-planned over the saved plan's projects it is current; over every project it is not.
    repo.manager.replan(saved, repo.manager.select(saved.projects(()), None), NOTHING_GIVEN)
    with pytest.raises(StalePlan):
        repo.manager.replan(saved, repo.manager.select((), None), NOTHING_GIVEN)


def test_invalid_files_carry_the_report_and_the_scope(repo: Repo) -> None:
    (repo.root / "pipelines" / "web" / "broken.yaml").write_text("key: [\n")
    with pytest.raises(InvalidFiles) as invalid:
        repo.manager.plan(repo.manager.select(("web",), "1/1"), FORCED)
    assert [Path(error.path).name for error in invalid.value.report.errors] == ["broken.yaml"]
    assert invalid.value.scope.projects == ("web",)


class Listener:
    """Everything apply shows, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def notice(self, line: str) -> None:
        self.events.append(f"notice {line}")

    @contextmanager
    def steps(self) -> Iterator[OnResult]:
        self.events.append("steps begin")
        yield lambda result: self.events.append(f"step {result.key} {result.status}")
        self.events.append("steps end")

    def outcome(self, report: ApplyReport) -> None:
        self.events.append(f"outcome ok={report.ok}")


def test_apply_runs_the_steps_then_shows_the_outcome_before_aviator_hears_it(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.root)  # no git here: the commit comes from GITHUB_SHA alone
    manager = Manager(repo.root / "pipelines", Connection(sandbox=repo.state), environ(AVIATOR))
    selection = manager.select(("web",), None)
    plan = manager.plan(selection, FORCED)
    listener = Listener()
    report = manager.apply(plan, selection.scope, listener)
    assert report.results == [StepResult("web", Action.DELETE, key, StepStatus.DONE)
                              for key in ("p3", "p4", "p5")]
    assert set(repo.live("web")) == {"p0", "p1", "p2"}
    # Aviator's lines, by their last word: the release candidate, then the deployment.
    events = [f"aviator {e.split()[-1]}" if e.startswith("notice aviator: ") else e
              for e in listener.events]
    assert events == [
        "aviator created", "aviator in_progress",
        "steps begin", "step p3 done", "step p4 done", "step p5 done", "steps end",
        "outcome ok=True",
        "aviator success",
    ]


def test_apply_without_aviator_settings_notices_nothing(repo: Repo) -> None:
    selection = repo.manager.select(("web",), None)
    listener = Listener()
    repo.manager.apply(repo.manager.plan(selection, FORCED), selection.scope, listener)
    assert not any(event.startswith("notice") for event in listener.events)
    assert listener.events[-1] == "outcome ok=True"


def test_a_plan_and_an_apply_are_never_formatted_on_their_way_out(
        repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    # Python 3.11's asyncio.run formats its main task, result included, as it ends: for a
    # large plan that is a repr of every step. Nothing here needs a plan or report shown.
    shown: list[str] = []
    monkeypatch.setattr(Plan, "__repr__", lambda plan: shown.append("plan") or "Plan")
    monkeypatch.setattr(ApplyReport, "__repr__", lambda report: shown.append("report") or "")
    plan = repo.manager.plan(repo.manager.select((), None), FORCED)
    repo.manager._run(lambda client: asyncio.sleep(0, ApplyReport(results=[])))
    assert plan.step_count == 3 and shown == []
