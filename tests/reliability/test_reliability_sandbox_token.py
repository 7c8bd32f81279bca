"""`reconciler sandbox serve --token T` refuses other tokens as LaunchDarkly does (401,
`{"code": "unauthorized", ...}`), and the CLI says the token was refused, never showing it.
Without `--token`, any token is accepted, as before."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from reliability_harness import TOKEN, Cli, pipeline, project

from tests.builders import dump_yaml

pytestmark = pytest.mark.integration

ROUTE = "/api/v2/projects/web/release-pipelines"
FIXTURE = {"projects": {"web": project([pipeline("main"), pipeline("old")], default="main")}}


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    folder = tmp_path / "pipelines" / "web"
    folder.mkdir(parents=True)
    dump_yaml(pipeline("main"), folder / "main.yaml")
    return Cli(tmp_path, "http://127.0.0.1:9", tmp_path / "pipelines")


def test_the_sandbox_refuses_other_tokens_when_given_one(sandbox_server, cli: Cli) -> None:
    server = sandbox_server(FIXTURE, "--token", TOKEN)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for token in ("other-token-1234", f"{TOKEN}x", TOKEN[:-1], f"Bearer {TOKEN}"):
            answer = client.get(ROUTE, headers={"Authorization": token, "LD-API-Version": "beta"})
            assert answer.status_code == 401, token
            assert answer.json() == {"code": "unauthorized", "message": "Invalid access token"}
        right = client.get(ROUTE, headers={"Authorization": TOKEN, "LD-API-Version": "beta"})
        assert right.status_code == 200
        assert {p["key"] for p in right.json()["items"]} == {"main", "old"}
    cli.url = server.url
    ok = cli.run("plan")
    assert ok.returncode == 0, ok.stderr
    refused = cli.run("plan", env={"LAUNCHDARKLY_ACCESS_TOKEN": "wrong-token-5678"})
    assert refused.returncode == 1
    assert refused.stderr == (
        f"error: GET {ROUTE}: 401 Invalid access token (unauthorized): LaunchDarkly refused "
        "the access token from LAUNCHDARKLY_ACCESS_TOKEN; check the access token and its "
        "role\n")
    assert "wrong-token-5678" not in refused.stdout + refused.stderr


def test_without_a_token_the_sandbox_accepts_any(sandbox_server) -> None:
    server = sandbox_server(FIXTURE)
    for token in ("any", TOKEN):
        answer = httpx.get(f"{server.url}{ROUTE}", timeout=30,
                           headers={"Authorization": token, "LD-API-Version": "beta"})
        assert answer.status_code == 200


def test_a_hostile_sandbox_token_is_refused_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "reconciler", "sandbox", "serve", "--port",
                             "0", "--state", str(tmp_path / "s.json"), "--token", "tök"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("error: --token contains a character that cannot be sent")
