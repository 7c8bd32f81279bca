"""Reference preflight through the CLI against `sandbox serve`: every environment and
segment key that a step would send is known to exist before anything runs, at the lowest
number of calls (counted in the sandbox's request log)."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.builders import pipeline
from tests.integration.test_engine_reads import Run

pytestmark = pytest.mark.integration

LIST = ("GET", "/api/v2/projects/web/release-pipelines", 200)
ENVIRONMENTS = ("GET", "/api/v2/projects/web/environments", 200)


def segments_of(environment: str) -> tuple[str, str, int]:
    return ("GET", f"/api/v2/segments/web/{environment}", 200)


def releases_of(key: str) -> tuple[str, str, int]:
    """The progressions call a re-phased pipeline costs anyway (not the preflight's)."""
    return ("GET", f"/api/v2/projects/web/release-pipelines/{key}/releases", 200)


def calls(run: Run) -> list[tuple[str, str, int | None]]:
    """The requests since the last look, sorted: concurrent calls arrive in any order."""
    return sorted(run.requests())


def audience_pipeline(key: str, env: str, segments: list[str] | None = None,
                      **extra: Any) -> dict[str, Any]:
    body = pipeline(key, env=env, **extra)
    if segments is not None:
        body["phases"][0]["audiences"][0]["segmentKeys"] = segments
    return body


LIVE = [audience_pipeline("a", "test", ["qa"]), audience_pipeline("b", "production")]
FIXTURE = {"projects": {"web": {
    "environments": ["test", "production", "staging"],
    "segments": {"test": ["qa", "qa2"], "production": ["beta"], "staging": ["qa"]},
    "pipelines": LIVE,
}}}


@pytest.fixture
def run(tmp_path: Path, sandbox_server) -> Run:
    log = tmp_path / "requests.jsonl"
    started = Run(tmp_path, sandbox_server(FIXTURE, "--request-log", str(log)), log)
    started.write("web", LIVE)
    return started


def position(path: Path, text: str) -> str:
    """`file:line:col` of the first `text` in the file, counted here by hand."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return f"pipelines/web/{path.name}:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in {path}")


def live_state(run: Run) -> dict[str, Any]:
    return json.loads(run.server.state_path.read_text())["projects"]["web"]["pipelines"]


def test_a_no_change_plan_costs_one_call(run: Run) -> None:
    assert run.cli("plan", "--detailed-exitcode").returncode == 0
    assert run.requests() == [LIST]


def test_keys_the_live_pipelines_name_need_no_look_up(run: Run) -> None:
    # a moves to production and b to test: both named by a live pipeline already.
    run.write("web", [audience_pipeline("a", "production", name="Renamed"),
                      audience_pipeline("b", "test", ["qa"])])
    assert run.cli("plan", "--detailed-exitcode").returncode == 2
    assert calls(run) == sorted([LIST, releases_of("a"), releases_of("b")])


@pytest.mark.parametrize(("changed", "look_ups"), [
    (audience_pipeline("a", "staging"), [ENVIRONMENTS]),
    (audience_pipeline("a", "test", ["qa", "qa2"]), [segments_of("test")]),
    (audience_pipeline("a", "staging", ["qa"]), [ENVIRONMENTS, segments_of("staging")]),
])
def test_an_unseen_key_costs_one_look_up_and_then_applies(
        run: Run, changed: dict[str, Any], look_ups: list[tuple[str, str, int]]) -> None:
    run.write("web", [changed, LIVE[1]])
    assert run.cli("plan", "--detailed-exitcode").returncode == 2
    assert calls(run) == sorted([LIST, releases_of("a"), *look_ups])
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_a_missing_environment_is_refused_at_its_line_and_nothing_runs(run: Run) -> None:
    run.write("web", [audience_pipeline("a", "stagging", ["qa"]), LIVE[1],
                      audience_pipeline("c", "production")])
    where = position(run.dir / "web" / "a.yaml", "stagging")
    refusal = (f"  ! refused: update a: {where}: phases[0].audiences[0].environmentKey: "
               "environment 'stagging' does not exist in project 'web'")
    planned = run.cli("plan")
    assert planned.returncode == 1
    assert refusal in planned.stdout.splitlines()
    # One environments call for the project; c's production is named live already.
    assert calls(run) == sorted([LIST, releases_of("a"), ENVIRONMENTS])
    before = live_state(run)
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 1 and refusal in applied.stdout.splitlines()
    assert {method for method, _, _ in run.requests()} == {"GET"}
    assert live_state(run) == before  # c was not created either: the project is refused


def test_a_segment_missing_in_one_environment_is_refused_there_only(run: Run) -> None:
    # beta exists in production, not in test; qa exists in test.
    run.write("web", [audience_pipeline("a", "test", ["qa", "beta"]),
                      audience_pipeline("b", "production", ["beta"])])
    where = position(run.dir / "web" / "a.yaml", "beta")
    planned = run.cli("plan", "--format", "json")
    assert planned.returncode == 1
    assert json.loads(planned.stdout)["projects"][0]["refusals"] == [
        f"update a: {where}: phases[0].audiences[0].segmentKeys[1]: segment 'beta' does not "
        "exist in environment 'test' of project 'web'"]
    # production's beta is unseen too (b named no segment): one call per environment.
    assert calls(run) == sorted([LIST, releases_of("a"), releases_of("b"),
                                 segments_of("production"), segments_of("test")])


def test_a_replace_naming_a_missing_environment_never_deletes_the_live_pipeline(
        run: Run) -> None:
    run.write("web", [LIVE[0], audience_pipeline("b", "qa-env", isLegacy=True)])
    where = position(run.dir / "web" / "b.yaml", "qa-env")
    planned = run.cli("plan")
    assert planned.returncode == 1
    assert (f"  ! refused: replace b: {where}: phases[0].audiences[0].environmentKey: "
            "environment 'qa-env' does not exist in project 'web'") in planned.stdout
    before = live_state(run)
    run.requests()
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 1
    assert {method for method, _, _ in run.requests()} == {"GET"}
    assert live_state(run) == before
