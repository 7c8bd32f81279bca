"""Plan and apply end to end: the real CLI, as a subprocess, against `sandbox serve`.

Every scenario ends with a plan that shows no changes, and the helpers check
LaunchDarkly's rules on the live state the sandbox reports.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import dump_yaml, pipeline, project

pytestmark = pytest.mark.integration

TOKEN = "api-canary-0123456789abcdef"  # must never appear in any output


class Workspace:
    """A pipelines/ folder, a sandbox server, and the CLI pointed at both."""

    def __init__(self, root: Path, server: Any) -> None:
        self.root = root
        self.server = server
        self.dir = root / "pipelines"
        self.outputs: list[str] = []

    def write(self, project_key: str, pipelines: list[dict[str, Any]],
              settings: dict[str, Any] | None = None) -> None:
        folder = self.dir / project_key
        if folder.exists():
            for old in folder.glob("*.yaml"):
                old.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        for body in pipelines:
            dump_yaml(body, folder / f"{body['key']}.yaml")
        if settings is not None:
            dump_yaml(settings, folder / "_project.yaml")

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_"))}
        environ.update({"LAUNCHDARKLY_BASE_URI": self.server.url,
                        "LAUNCHDARKLY_ACCESS_TOKEN": TOKEN,
                        "RECONCILER_PIPELINES_DIR": str(self.dir)})
        environ.update(env or {})
        result = subprocess.run([sys.executable, "-m", "reconciler", *args], env=environ,
                                capture_output=True, text=True, timeout=120, cwd=self.root)
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def plan_exit(self, *args: str) -> int:
        return self.run("plan", "--detailed-exitcode", *args).returncode

    def converge(self, *args: str) -> None:
        applied = self.run("apply", "--yes", *args)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        again = self.run("plan", "--detailed-exitcode", *args)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "No changes" in again.stdout

    def live(self, project_key: str) -> dict[str, dict[str, Any]]:
        headers = {"Authorization": TOKEN, "LD-API-Version": "beta"}
        url = f"{self.server.url}/api/v2/projects/{project_key}/release-pipelines"
        for _ in range(20):  # a rate-limited sandbox answers 429 to this reader too
            response = httpx.get(url, params={"limit": 50}, headers=headers)
            if response.status_code != 429:
                break
            reset_ms = int(response.headers["X-Ratelimit-Reset"])
            time.sleep(max(0.0, reset_ms / 1000 - time.time()) + 0.05)
        response.raise_for_status()
        items = response.json()["items"]
        assert len(items) <= 20
        return {p["key"]: p for p in items}

    def default(self, project_key: str) -> str:
        defaults = [k for k, p in self.live(project_key).items() if p.get("isProjectDefault")]
        assert len(defaults) == 1, defaults
        return defaults[0]


@pytest.fixture
def workspace(tmp_path: Path, sandbox_server):
    def make(fixture: dict[str, Any], *serve_args: str) -> Workspace:
        return Workspace(tmp_path, sandbox_server(fixture, *serve_args))

    made: list[Workspace] = []

    def tracked(fixture: dict[str, Any], *serve_args: str) -> Workspace:
        made.append(make(fixture, *serve_args))
        return made[-1]

    yield tracked
    for ws in made:  # the canary token never leaks into anything the CLI printed or wrote
        assert all(TOKEN not in text for text in ws.outputs)
        for written in ws.root.rglob("*.json"):
            assert TOKEN not in written.read_text(errors="replace")


def test_bootstrap_an_empty_project_makes_the_desired_default(workspace) -> None:
    ws = workspace({"projects": {"web": project([])}})
    ws.write("web", [pipeline("alpha"), pipeline("beta", isProjectDefault=True),
                     pipeline("gamma")])
    assert ws.plan_exit() == 2
    ws.converge()
    assert set(ws.live("web")) == {"alpha", "beta", "gamma"}
    assert ws.default("web") == "beta"


def test_swap_the_default_and_delete_the_old_one(workspace) -> None:
    ws = workspace({"projects": {"web": project([pipeline("old"), pipeline("new")],
                                                default="old")}})
    ws.write("web", [pipeline("new", isProjectDefault=True)], {"prune": True})
    ws.converge()
    assert list(ws.live("web")) == ["new"] and ws.default("web") == "new"


def test_full_project_replaces_five_pipelines_with_five_others(workspace) -> None:
    keep = [pipeline(f"keep-{i:02}") for i in range(15)]
    gone = [pipeline(f"gone-{i}") for i in range(5)]
    new = [pipeline(f"new-{i}") for i in range(5)]
    ws = workspace({"projects": {"web": project(keep + gone)}})
    ws.write("web", keep + new, {"prune": True})
    plan = ws.run("plan", "--format", "json")
    actions = [s["action"] for s in json.loads(plan.stdout)["projects"][0]["steps"]]
    assert actions == ["delete"] * 5 + ["create"] * 5
    ws.converge()
    assert set(ws.live("web")) == {p["key"] for p in keep + new}


def test_legacy_flip_replaces_the_pipeline(workspace) -> None:
    ws = workspace({"projects": {"web": project([pipeline("main"),
                                                 pipeline("manual", isLegacy=False)])}})
    ws.write("web", [pipeline("main"), pipeline("manual", isLegacy=True)])
    assert "replace manual" in ws.run("plan").stdout
    ws.converge()
    assert ws.live("web")["manual"]["_isLegacy"] is True


def test_unmanaged_are_kept_prune_deletes_and_protected_survive(workspace) -> None:
    live = [pipeline("managed"), pipeline("by-hand"), pipeline("precious")]
    ws = workspace({"projects": {"web": project(live, default="managed")}})
    ws.write("web", [pipeline("managed", name="Renamed")])
    ws.converge()
    assert set(ws.live("web")) == {"managed", "by-hand", "precious"}
    ws.write("web", [pipeline("managed", name="Renamed")],
             {"prune": True, "protected": ["precious"]})
    ws.converge("--force")
    assert set(ws.live("web")) == {"managed", "precious"}


def test_active_releases_block_a_delete_and_gate_a_phase_change(workspace) -> None:
    ws = workspace({"projects": {"web": project(
        [pipeline("main"), pipeline("busy"), pipeline("rephase")], default="main",
        active={"busy": ["new-checkout"], "rephase": ["dark-mode"]})}})
    ws.write("web", [pipeline("main"), pipeline("rephase")], {"prune": True})
    blocked = ws.run("plan")
    assert blocked.returncode == 1 and "new-checkout" in blocked.stdout
    refused = ws.run("apply", "--yes")
    assert refused.returncode == 1 and "busy" in ws.live("web")
    ws.write("web", [pipeline("main"), pipeline("busy"), pipeline("rephase", phases=2)])
    assert ws.run("plan").returncode == 1
    ws.converge("--allow-active-releases")
    assert len(ws.live("web")["rephase"]["phases"]) == 2


def test_delete_threshold_needs_force(workspace) -> None:
    live = [pipeline(f"p{i}") for i in range(6)]
    ws = workspace({"projects": {"web": project(live, default="p0")}})
    ws.write("web", live[:3], {"prune": True})
    refused = ws.run("plan")
    assert refused.returncode == 1 and "--force" in refused.stdout
    assert ws.run("apply", "--yes").returncode == 1 and len(ws.live("web")) == 6
    ws.converge("--force")
    assert set(ws.live("web")) == {"p0", "p1", "p2"}


def test_a_stale_plan_is_refused(workspace, tmp_path: Path) -> None:
    ws = workspace({"projects": {"web": project([pipeline("main")])}})
    ws.write("web", [pipeline("main", name="From git")])
    plan_file = tmp_path / "plan.json"
    assert ws.run("plan", "--out", str(plan_file)).returncode == 0
    headers = {"Authorization": TOKEN, "LD-API-Version": "beta"}
    edited = httpx.put(f"{ws.server.url}/api/v2/projects/web/release-pipelines/main",
                       json={"name": "Edited in the UI", "phases": pipeline("main")["phases"]},
                       headers=headers)
    edited.raise_for_status()
    stale = ws.run("apply", str(plan_file))  # the CLI smoke test; the contract: test_manager
    assert stale.returncode == 1 and "plan is stale" in stale.stderr
    assert ws.live("web")["main"]["name"] == "Edited in the UI"
    assert ws.run("plan", "--out", str(plan_file)).returncode == 0
    assert ws.run("apply", str(plan_file)).returncode == 0
    assert ws.live("web")["main"]["name"] == "From git"


def test_a_saved_plan_applies_with_the_options_it_was_made_with(workspace,
                                                                tmp_path: Path) -> None:
    # The CLI smoke test; the contract itself is tested in process (test_manager).
    live = [pipeline(f"p{i}") for i in range(6)]
    ws = workspace({"projects": {"web": project(live, default="p0")}})
    ws.write("web", live[:3], {"prune": True})
    plan_file = tmp_path / "plan.json"
    assert ws.run("plan", "--force", "--out", str(plan_file)).returncode == 0
    assert ws.run("apply", str(plan_file)).returncode == 0  # no --force: the plan's own
    assert set(ws.live("web")) == {"p0", "p1", "p2"}


def test_faults_mid_apply_then_a_rerun_converges(workspace, sandbox_server) -> None:
    fixture = {"projects": {"web": project([pipeline(f"p{i}") for i in range(8)])}}
    ws = workspace(fixture, "--fault-rate", "0.4", "--seed", "7")
    ws.write("web", [pipeline(f"p{i}", name=f"Changed {i}") for i in range(8)]
             + [pipeline(f"n{i}") for i in range(4)])
    first = ws.run("apply", "--yes")
    assert first.returncode in (0, 1)
    ws.server.stop()
    ws.server = sandbox_server(None, state_path=ws.server.state_path)
    ws.converge()
    assert len(ws.live("web")) == 12


def test_rate_limits_are_waited_out(workspace) -> None:
    ws = workspace({"projects": {"web": project([pipeline(f"p{i}") for i in range(10)])}},
                   "--rate-limit", "4")
    ws.write("web", [pipeline(f"p{i}", name=f"Changed {i}") for i in range(10)])
    ws.converge()
    assert all(p["name"].startswith("Changed") for p in ws.live("web").values())


def test_missing_token_and_plain_http_are_one_line_errors(workspace) -> None:
    ws = workspace({"projects": {"web": project([])}})
    ws.write("web", [pipeline("main")])
    missing = ws.run("plan", env={"LAUNCHDARKLY_ACCESS_TOKEN": ""})
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0
    assert "LAUNCHDARKLY_ACCESS_TOKEN" in missing.stderr and "LD_ACCESS_TOKEN" in missing.stderr
    plain = ws.run("plan", "--base-uri", "http://ld.example.com")
    assert plain.returncode == 1 and "http" in plain.stderr


@pytest.mark.parametrize("mutate, message", [
    (lambda text: text[: len(text) // 2], "invalid JSON"),
    (lambda text: text.replace('"formatVersion": 2', '"formatVersion": 99'), "not supported"),
    (lambda text: text.replace('"formatVersion": 2', '"formatVersion": 1'), "run plan again"),
    (lambda text: text.replace('"From git"', '"Tampered"', 1), "digest"),
])
def test_a_damaged_plan_file_is_refused(workspace, tmp_path: Path, mutate, message) -> None:
    ws = workspace({"projects": {"web": project([pipeline("main")])}})
    ws.write("web", [pipeline("main", name="From git")])
    plan_file = tmp_path / "plan.json"
    ws.run("plan", "--out", str(plan_file))
    plan_file.write_text(mutate(plan_file.read_text()))
    refused = ws.run("apply", str(plan_file))
    assert refused.returncode == 1 and message in refused.stderr
    assert ws.live("web")["main"]["name"] == "Main"
