"""Release policies beside pipelines, end to end through the CLI against `sandbox serve`:
planned, applied and re-planned to zero changes, with every request counted: one list
call per project and kind it manages, none for a kind it does not, and exactly the
mutations the plan shows."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import dump_yaml, pipeline, project
from tests.integration.test_engine_reads import Run as EngineRun

pytestmark = pytest.mark.integration

PIPELINES = "/api/v2/projects/{}/release-pipelines"
POLICIES = "/api/v2/projects/{}/release-policies"


def policy(key: str, envs: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "name": key.title(), "releaseMethod": "immediate-release",
            "scope": {"environmentKeys": envs}, **extra}


GUARDED = policy("prod", ["production"], releaseMethod="guarded-release",
                 guardedReleaseConfig={"metricKeys": ["http-errors"], "stages": [
                     {"allocation": 10000, "durationMillis": 3600000}]})
DEFAULT = policy("everything-else", [])


class Run(EngineRun):
    """EngineRun with policy files and `_project.yaml` too, and requests sorted."""

    def write_project(self, project_key: str, pipelines: list[dict[str, Any]],
                      policies: list[dict[str, Any]], order: list[str] | None = None) -> None:
        self.write(project_key, pipelines)
        folder = self.dir / project_key / "release-policies"
        folder.mkdir(parents=True, exist_ok=True)
        for body in policies:
            dump_yaml(body, folder / f"{body['key']}.yaml")
        if order is not None:
            dump_yaml({"policyOrder": order}, self.dir / project_key / "_project.yaml")

    def requests(self) -> list[tuple[str, str, int | None]]:
        # Projects and kinds are read side by side: their order is not the point.
        return sorted(super().requests())

    def ranking(self, project_key: str) -> list[str]:
        state = json.loads(self.server.state_path.read_text())
        return list(state["projects"][project_key].get("policies", {}))


@pytest.fixture
def start(tmp_path: Path, sandbox_server):
    def make(fixture: dict[str, Any], *serve_args: str) -> Run:
        log = tmp_path / "requests.jsonl"
        return Run(tmp_path, sandbox_server(fixture, "--request-log", str(log), *serve_args),
                   log)

    return make


def test_pipelines_and_policies_are_planned_applied_and_re_planned_to_zero(start) -> None:
    both = project([pipeline("standard")], policies=[
        policy("old", ["test"]), policy("prod", ["production"], name="Edited in the UI")],
        defaultPolicy=DEFAULT)
    only_pipelines = project([pipeline("standard")])
    run = start({"projects": {"web": both, "api": only_pipelines}})
    run.write_project("web", [pipeline("standard")],
              [GUARDED, policy("staging", ["staging"])], order=["staging", "prod"])
    run.write_project("api", [pipeline("standard", name="Renamed")], [])

    planned = run.cli("plan", "--detailed-exitcode", "--out", "plan.json")
    assert planned.returncode == 2, planned.stderr
    # One list call per project and kind it manages: api manages no policies.
    assert run.requests() == [("GET", PIPELINES.format("api"), 200),
                              ("GET", PIPELINES.format("web"), 200),
                              ("GET", POLICIES.format("web"), 200)]
    saved = json.loads((run.root / "plan.json").read_text())
    web = [p for p in saved["projects"] if p["project"] == "web"]
    assert [(p["kind"], [(s["action"], s["key"]) for s in p["steps"]]) for p in web] == [
        ("pipelines", []),
        ("policies", [("update", "prod"), ("create", "staging"), ("reorder", "policyOrder")]),
    ]
    assert (web[1]["orderBefore"], web[1]["orderAfter"]) == (
        ["old", "prod"], ["old", "staging", "prod"])  # old is unmanaged: it keeps its slot
    assert web[1]["steps"][2]["order"] == ["old", "staging", "prod"]

    applied = run.cli("apply", "plan.json")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert run.requests() == sorted([
        # the stale-plan check reads each project and kind once again
        ("GET", PIPELINES.format("api"), 200), ("GET", PIPELINES.format("web"), 200),
        ("GET", POLICIES.format("web"), 200),
        ("PUT", PIPELINES.format("api") + "/standard", 200),
        ("PUT", POLICIES.format("web") + "/prod", 200),
        ("POST", POLICIES.format("web"), 201),
        ("POST", POLICIES.format("web") + "/order", 200),
    ])
    assert run.ranking("web") == ["old", "staging", "prod"]

    again = run.cli("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
    assert again.stdout.rstrip().endswith("No changes. Live matches git.")
    assert run.requests() == [("GET", PIPELINES.format("api"), 200),
                              ("GET", PIPELINES.format("web"), 200),
                              ("GET", POLICIES.format("web"), 200)]
    drift = run.cli("drift")
    assert drift.returncode == 0, drift.stdout


def test_a_folder_of_policies_only_leaves_the_projects_pipelines_alone(start) -> None:
    run = start({"projects": {"web": project([pipeline("standard")], defaultPolicy=DEFAULT)}})
    run.write_project("web", [], [GUARDED])
    planned = run.cli("plan", "--detailed-exitcode", "--format", "json")
    assert planned.returncode == 2, planned.stderr
    assert run.requests() == [("GET", POLICIES.format("web"), 200)]
    (only,) = json.loads(planned.stdout)["projects"]
    assert (only["kind"], [s["action"] for s in only["steps"]]) == ("policies", ["create"])


@pytest.mark.parametrize("marker", ["field", "rank0", "hidden"])
def test_a_file_naming_the_default_policy_updates_it_however_the_listing_marks_it(
        start, marker: str) -> None:
    run = start({"projects": {"web": project([], policies=[GUARDED], defaultPolicy=DEFAULT)}},
                "--default-policy-marker", marker)
    run.write_project("web", [], [GUARDED, {**DEFAULT, "name": "Everything else"}],
              order=["prod", "everything-else"])
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    mutations = [(m, p) for m, p, _ in run.requests() if m != "GET"]
    assert mutations == [("PUT", POLICIES.format("web") + "/everything-else")]
    state = json.loads(run.server.state_path.read_text())
    assert state["projects"]["web"]["defaultPolicy"]["name"] == "Everything else"
    again = run.cli("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout
