"""`apply` reported to Aviator, and `aviator deployments`: the real CLI as a subprocess
against `sandbox serve`, which emulates LaunchDarkly and Aviator on the same port."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.builders import dump_yaml

pytestmark = pytest.mark.integration

LD_TOKEN = "api-canary-aviator-ld-0123"
AVIATOR_TOKEN = "aviator-canary-4d3c2b1a"  # neither may appear in any output or file
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
FIXTURE = {
    "projects": {"web": {"environments": ["test", "production"]}},
    "aviator": {"projects": {"web-pipelines": {"environments": ["production"],
                                               "repo": "acme/pipelines"}}},
}


def pipeline(key: str, name: str, env: str = "test") -> dict[str, Any]:
    return {"key": key, "name": name,
            "phases": [{"name": "P1", "audiences": [{"name": "All", "environmentKey": env}]}]}


class Workspace:
    def __init__(self, root: Path, server: Any, aviator_url: str) -> None:
        self.root = root
        self.server = server
        self.aviator_url = aviator_url
        self.outputs: list[str] = []
        (root / "pipelines" / "web").mkdir(parents=True)

    def write(self, *pipelines: dict[str, Any]) -> None:
        for body in pipelines:
            dump_yaml(body, self.root / "pipelines" / "web" / f"{body['key']}.yaml")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items()
                   if not k.startswith(("LAUNCHDARKLY_", "LD_", "AVIATOR_", "GITHUB_"))}
        environ.update({
            "LAUNCHDARKLY_BASE_URI": self.server.url, "LAUNCHDARKLY_ACCESS_TOKEN": LD_TOKEN,
            "RECONCILER_PIPELINES_DIR": str(self.root / "pipelines"),
            "AVIATOR_API_TOKEN": AVIATOR_TOKEN, "AVIATOR_PROJECT": "web-pipelines",
            "AVIATOR_ENVIRONMENT": "production", "AVIATOR_BASE_URL": self.aviator_url,
            "GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme/pipelines",
        })
        result = subprocess.run([sys.executable, "-m", "reconciler", *args], env=environ,
                                capture_output=True, text=True, timeout=120, cwd=self.root)
        self.outputs += [result.stdout, result.stderr]
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def apply(self) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "--yes")

    def aviator(self) -> dict[str, Any]:
        """The Release Project as the sandbox stores it."""
        return json.loads(self.server.state_path.read_text())["aviator"]["web-pipelines"]

    def live(self) -> set[str]:
        response = httpx.get(f"{self.server.url}/api/v2/projects/web/release-pipelines",
                             headers={"Authorization": LD_TOKEN, "LD-API-Version": "beta"})
        response.raise_for_status()
        return {item["key"] for item in response.json()["items"]}


@pytest.fixture
def workspace(tmp_path: Path, sandbox_server):
    made: list[Workspace] = []

    def make(aviator_url: str | None = None) -> Workspace:
        server = sandbox_server(FIXTURE, "--request-log", str(tmp_path / "requests.jsonl"))
        made.append(Workspace(tmp_path, server, aviator_url or server.url))
        return made[-1]

    yield make
    for ws in made:
        for text in ws.outputs:
            assert LD_TOKEN not in text and AVIATOR_TOKEN not in text
        for written in tmp_path.rglob("*.json*"):
            content = written.read_text(errors="replace")
            assert LD_TOKEN not in content and AVIATOR_TOKEN not in content


def aviator_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "viator" in line]


def aviator_requests(log: Path) -> int:
    return sum("/api/releases/" in line for line in log.read_text().splitlines())


def test_apply_reapply_of_the_commit_and_a_no_change_apply(workspace, tmp_path: Path) -> None:
    ws = workspace()
    ws.write(pipeline("alpha", "Alpha"))
    first = ws.apply()
    assert first.returncode == 0, first.stderr
    [version] = ws.aviator()["releases"]
    assert version.endswith("-1a2b3c4-rc1")
    assert aviator_lines(first.stderr) == [
        f"aviator: web-pipelines: release candidate {version} (acme/pipelines@1a2b3c4) created",
        f"aviator: production: {version} in_progress",
        f"aviator: production: {version} success",
    ]

    ws.write(pipeline("alpha", "Alpha 2"))  # the same commit applied again, with changes
    second = ws.apply()
    assert second.returncode == 0, second.stderr
    assert aviator_lines(second.stderr)[0].endswith(f"{version} (acme/pipelines@1a2b3c4) "
                                                    "exists, reused")
    assert "warning" not in second.stderr
    project = ws.aviator()
    assert list(project["releases"]) == [version]
    assert [(d["release_candidate_version"], d["status"]) for d in project["deployments"]] == [
        (version, "success")]

    calls = aviator_requests(tmp_path / "requests.jsonl")
    unchanged = ws.apply()
    assert unchanged.returncode == 0 and "No changes" in unchanged.stdout
    assert aviator_lines(unchanged.stderr) == []
    assert aviator_requests(tmp_path / "requests.jsonl") == calls

    listed = ws.run("aviator", "deployments", "--limit", "5")
    assert listed.returncode == 0, listed.stderr
    header, columns, row = listed.stdout.splitlines()
    assert header == "web-pipelines / production: 1 most recent deployment"
    assert columns.startswith("STATUS   VERSION")
    assert row.split()[:3] == ["success", version, "-"]


def test_a_failed_apply_is_a_failed_deployment(tmp_path: Path, sandbox_server) -> None:
    # LaunchDarkly refuses the change at apply; Aviator (the same sandbox) still answers.
    refusing = sandbox_server(FIXTURE, "--refuse-mutations")
    ws = Workspace(tmp_path, refusing, refusing.url)
    ws.write(pipeline("alpha", "Alpha"), pipeline("beta", "Beta"))
    failed = ws.apply()
    assert failed.returncode == 1
    assert "failed" in failed.stderr
    assert aviator_lines(failed.stderr)[-1].endswith("-rc1 failure")
    assert [d["status"] for d in ws.aviator()["deployments"]] == ["failure"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_aviator_down_is_a_warning_and_never_fails_apply(workspace, sandbox_server,
                                                          tmp_path: Path) -> None:
    # 5xx: an Aviator whose every answer is an injected 500, 502 or 503 (seed 7).
    down = sandbox_server(FIXTURE, "--fault-rate", "1", "--seed", "7",
                          state_path=tmp_path / "down.json")
    ws = workspace(down.url)
    ws.write(pipeline("alpha", "Alpha"))
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr
    warnings = aviator_lines(applied.stderr)
    assert [w.split(" (apply is not affected): ")[0] for w in warnings] == [
        "warning: Aviator: could not mark the deployment in_progress",
        "warning: Aviator: could not report the deployment's success",
    ]
    assert all(": 50" in w for w in warnings)

    # Connection refused.
    ws.aviator_url = f"http://127.0.0.1:{_closed_port()}"
    ws.write(pipeline("beta", "Beta"))
    applied = ws.apply()
    assert applied.returncode == 0, applied.stderr
    warnings = aviator_lines(applied.stderr)
    assert len(warnings) == 2
    assert all(w.endswith("refused the connection; AVIATOR_BASE_URL sets the address "
                          "(gave up after 2 retries)") for w in warnings)
    assert ws.live() == {"alpha", "beta"}
