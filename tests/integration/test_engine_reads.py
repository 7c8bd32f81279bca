"""What the engine reads before it plans, through the CLI against `sandbox serve`: a short
or inconsistent listing is never planned from, and a project that cannot be read fails
alone, with its folder and the route, while the others are still planned."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.builders import dump_yaml, pipeline, project

pytestmark = pytest.mark.integration

PIPELINES_ROUTE = "/api/v2/projects/{}/release-pipelines"


class Run:
    """A pipelines/ folder and a sandbox server with a request log, and the CLI on both."""

    def __init__(self, root: Path, server: Any, log: Path) -> None:
        self.root = root
        self.server = server
        self.log = log
        self.dir = root / "pipelines"

    def write(self, project_key: str, pipelines: list[dict[str, Any]]) -> None:
        folder = self.dir / project_key
        folder.mkdir(parents=True, exist_ok=True)
        for body in pipelines:
            dump_yaml(body, folder / f"{body['key']}.yaml")

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_"))}
        environ.update({"LAUNCHDARKLY_BASE_URI": self.server.url,
                        "LAUNCHDARKLY_ACCESS_TOKEN": "sandbox-token",
                        "RECONCILER_PIPELINES_DIR": "pipelines"})
        result = subprocess.run([sys.executable, "-m", "reconciler", *args], env=environ,
                                capture_output=True, text=True, timeout=120, cwd=self.root)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def requests(self) -> list[tuple[str, str, int | None]]:
        """Every request so far, as (method, path, status); the log is then emptied."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        self.log.write_text("")
        return [(r["method"], r["path"], r["status"]) for r in map(json.loads, lines)]

    def live_keys(self, project_key: str) -> set[str]:
        state = json.loads(self.server.state_path.read_text())
        return set(state["projects"][project_key]["pipelines"])


@pytest.fixture
def start(tmp_path: Path, sandbox_server):
    def make(fixture: dict[str, Any], *serve_args: str) -> Run:
        log = tmp_path / "requests.jsonl"
        return Run(tmp_path, sandbox_server(fixture, "--request-log", str(log), *serve_args),
                   log)

    return make


FULL = [pipeline(f"p{i:02}") for i in range(20)]  # a project at LaunchDarkly's cap


def test_a_listing_that_stays_short_fails_its_project_and_plans_nothing_from_it(start) -> None:
    # Each page of every listing loses its last item: the 20th pipeline of `full` is
    # never seen, so a trusting plan would create it: a 21st create.
    run = start({"projects": {"full": project(FULL)}}, "--inconsistent-listings", "short")
    run.write("full", FULL)
    planned = run.cli("plan", "--detailed-exitcode")
    assert planned.returncode == 1
    assert "+ create" not in planned.stdout
    assert planned.stdout.splitlines()[0] == (
        "! pipelines/full/ not planned: live could not be read: GET "
        "/api/v2/projects/full/release-pipelines: the listing is inconsistent (19 items of 20 "
        "after 3 attempts); a partial listing is never used")
    # Three passes of two pages each (the second page, at offset 19, comes back empty).
    assert run.requests() == [("GET", PIPELINES_ROUTE.format("full"), 200)] * 6
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 1
    assert "nothing was applied" in applied.stderr
    assert all(method == "GET" for method, _, _ in run.requests())


def test_a_listing_longer_than_its_total_fails_its_project(start) -> None:
    run = start({"projects": {"web": project([pipeline("a"), pipeline("b")])}},
                "--inconsistent-listings", "long")
    run.write("web", [pipeline("a"), pipeline("b", name="Renamed")])
    planned = run.cli("plan", "--format", "json")
    assert planned.returncode == 1
    assert json.loads(planned.stdout)["projects"][0]["failure"] == {
        "folder": "pipelines/web/",
        "reason": "GET /api/v2/projects/web/release-pipelines: the listing is inconsistent "
                  "(3 items of 2, some repeated after 3 attempts); a partial listing is never "
                  "used",
    }
    assert planned.stderr.startswith("error: pipelines/web/ not planned: ")


def test_a_listing_that_comes_right_on_a_second_pass_is_planned(start) -> None:
    # Only the first two listings (the first pass: two pages) are short.
    run = start({"projects": {"full": project(FULL)}},
                "--inconsistent-listings", "short", "--inconsistent-listings-count", "2")
    run.write("full", FULL)
    planned = run.cli("plan", "--detailed-exitcode")
    assert (planned.returncode, planned.stdout) == (0, "No changes. Live matches git.\n")
    assert run.requests() == [("GET", PIPELINES_ROUTE.format("full"), 200)] * 3


def test_a_project_missing_live_fails_alone_and_the_others_are_planned(start) -> None:
    run = start({"projects": {"web": project([pipeline("a")]),
                              "api": project([pipeline("b")])}})
    run.write("web", [pipeline("a", name="Renamed")])
    run.write("api", [pipeline("b")])
    run.write("ghost", [pipeline("c")])
    missing = ("! pipelines/ghost/ not planned: live could not be read: GET "
               "/api/v2/projects/ghost/release-pipelines: 404 project 'ghost' not found")

    planned = run.cli("plan")
    assert planned.returncode == 1
    lines = planned.stdout.splitlines()
    assert lines[0] == missing
    assert "Project web (1 live, 1 in git, default a)" in lines
    assert "  ~ update a: live differs from git" in lines
    assert lines[-1] == ("Not applicable: 1 project not read; nothing will be applied until "
                         "this is resolved.")

    markdown = run.cli("plan", "--format", "markdown")
    assert markdown.returncode == 1
    assert f"**{missing[2:]}**" in markdown.stdout
    assert "| <code>ghost</code> (not read) | 0 | 0 | 0 | 0 | 0 | 0 |" in markdown.stdout
    assert "<b>a</b>: live differs from git" in markdown.stdout
    assert markdown.stderr == f"error: {missing[2:]}\n"

    drift = run.cli("drift", "--format", "markdown")
    assert drift.returncode == 1  # web drifted, but ghost could not be compared at all
    assert f"- <code>ghost</code>: {missing[2:]}" in drift.stdout
    assert "| <code>web</code> | <code>a</code> | 1 difference |" in drift.stdout

    run.requests()
    applied = run.cli("apply", "--yes")
    assert applied.returncode == 1
    assert missing in applied.stdout.splitlines()
    assert "nothing was applied" in applied.stderr
    assert all(method == "GET" for method, _, _ in run.requests())
    assert run.cli("plan", "--project", "web", "--project", "api").returncode == 0
