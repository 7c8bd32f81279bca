"""Secrets: canary tokens for LaunchDarkly, GitHub and Aviator go through every command
and its failure paths and appear nowhere: not in stdout or stderr, not in plan files or
any other file, not in GitHub comment or issue bodies, not in Aviator payloads, and each
only ever in its own service's Authorization header. Plain http:// to a non-loopback host
is refused, TLS verification cannot be turned off by the environment, and the sandbox
listens on loopback and wants an Authorization header.
"""

import asyncio
import hashlib
import json
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from reliability_harness import TOKEN, pipeline, project

from reconciler.cli import cli
from reconciler.errors import ApiError
from reconciler.github.client import GitHubClient, GitHubSettings
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.settings import LaunchDarklySettings

pytestmark = pytest.mark.integration

GITHUB_TOKEN = "ghs-canary-0a1b2c3d4e5f6071"
AVIATOR_TOKEN = "aviator-canary-9f8e7d6c5b4a"
CANARIES = (TOKEN, GITHUB_TOKEN, AVIATOR_TOKEN)
SHA = "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d"
FIXTURE = {
    "projects": {"web": project([pipeline("main"), pipeline("old")], default="main")},
    "aviator": {"projects": {"web-pipelines": {"environments": ["production"],
                                               "repo": "acme/pipelines"}}},
}
# What people reach for to turn TLS verification off in other tools; none may work here.
NO_VERIFY = {"PYTHONHTTPSVERIFY": "0", "CURL_CA_BUNDLE": "", "REQUESTS_CA_BUNDLE": "",
             "SSL_CERT_FILE": "", "HTTPX_SSL_VERIFY": "0", "SSL_NO_VERIFY": "1",
             "NODE_TLS_REJECT_UNAUTHORIZED": "0", "GIT_SSL_NO_VERIFY": "1"}


def digest(authorization: str) -> str:
    return hashlib.sha256(authorization.encode()).hexdigest()


def assert_no_canary(text: str, where: Any) -> None:
    for canary in CANARIES:
        assert canary not in text, (canary, where)


def test_no_token_in_any_output_file_comment_or_payload(workspace, recorder,
                                                        tmp_path: Path) -> None:
    ws = workspace(FIXTURE)
    fake = recorder(upstream=ws.server.url)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": SHA}}}))
    ws.cli.env.update({
        "GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_REPOSITORY": "acme/pipelines",
        "GITHUB_API_URL": fake.url, "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": SHA,
        "AVIATOR_API_TOKEN": AVIATOR_TOKEN, "AVIATOR_PROJECT": "web-pipelines",
        "AVIATOR_ENVIRONMENT": "production", "AVIATOR_BASE_URL": fake.url,
    })
    plan_file, damaged = tmp_path / "plan.json", tmp_path / "damaged.json"
    echo = f"{fake.url}/echo"

    def change(name: str) -> None:
        ws.write("web", [pipeline("main", name=name), pipeline("new")], {"prune": True})

    def run(*args: str, **env: str) -> Callable[[], int]:
        return lambda: ws.run(*args, env=env).returncode

    def damage() -> None:
        damaged.write_text(plan_file.read_text()[:-40])

    steps: list[tuple[Callable[[], Any], int | None]] = [
        # Every command that reads LaunchDarkly, GitHub or Aviator (the others never
        # touch a token)...
        (lambda: change("Renamed"), None),
        (run("validate", "--online"), 0),
        (run("graph", "--live"), 0),
        (run("export", "--project", "web", "--pipelines-dir", str(tmp_path / "exported")), 0),
        (run("plan", "--out", str(plan_file), "--github-comment"), 0),
        (run("drift", "--github-issue"), 2),
        (run("apply", str(plan_file)), 0),  # reported to Aviator
        # Failure paths: a stale plan, a damaged plan...
        (run("apply", str(plan_file)), 1),
        (damage, None),
        (run("apply", str(damaged)), 1),
        # ...servers that echo the token back in their error messages...
        (lambda: change("Again"), None),
        (run("plan", LAUNCHDARKLY_BASE_URI=fake.url), 1),  # its /api/v2/... echoes too
        (run("plan", "--github-comment", GITHUB_API_URL=echo), 0),
        (run("apply", "--yes", AVIATOR_BASE_URL=echo), 0),
        (run("aviator", "deployments", AVIATOR_BASE_URL=echo), 1),
        # ...and tokens that cannot be sent.
        (run("plan", LAUNCHDARKLY_ACCESS_TOKEN=f"{TOKEN} x"), 1),
        (run("plan", "--github-comment", GITHUB_TOKEN=f"{GITHUB_TOKEN} x"), 1),
        (run("aviator", "deployments", AVIATOR_API_TOKEN=f"{AVIATOR_TOKEN} x"), 1),
        (lambda: change("Last"), None),
        (run("apply", "--yes"), 0),
        (run("drift", "--github-issue"), 0),  # in sync: closes the issue
        (run("aviator", "deployments"), 0),
    ]
    for number, (step, expected) in enumerate(steps):
        assert step() == expected, (number, ws.cli.outputs[-1])

    # The echoing server did receive the tokens, and the CLI said so without them.
    requests = fake.requests()
    echoed = {r["auth_sha256"] for r in requests
              if r["path"].startswith(("/echo/", "/api/v2/"))}
    assert echoed == {digest(TOKEN), digest(f"Bearer {GITHUB_TOKEN}"),
                      digest(f"Bearer {AVIATOR_TOKEN}")}
    assert "rejected credentials: ***" in "".join(ws.cli.outputs)
    for text in ws.cli.outputs:
        assert_no_canary(text, "output")
    for written in tmp_path.rglob("*"):
        if written.is_file():
            assert_no_canary(written.read_bytes().decode("utf-8", "replace"), written)

    # GitHub got comment and issue bodies, Aviator its payloads, each with its own token.
    github = [r for r in requests if r["path"].startswith("/repos/")]
    aviator = [r for r in requests if r["path"].startswith("/api/releases/")]
    assert {(r["method"], r["path"]) for r in github} >= {
        ("POST", "/repos/acme/pipelines/issues/7/comments"),
        ("POST", "/repos/acme/pipelines/issues")}
    assert {r["method"] for r in aviator} >= {"POST", "PATCH"}
    for request in github + aviator:
        assert_no_canary(request["body"], request["path"])
    assert {r["auth_sha256"] for r in github} == {digest(f"Bearer {GITHUB_TOKEN}")}
    assert {r["auth_sha256"] for r in aviator} == {digest(f"Bearer {AVIATOR_TOKEN}")}


@pytest.mark.parametrize("variable, args, message", [
    ("LAUNCHDARKLY_BASE_URI", ["plan"], "refusing plain http:// to ld.example.com"),
    ("GITHUB_API_URL", ["plan", "--github-comment"],
     "GITHUB_API_URL: refusing plain http:// to"),
    ("AVIATOR_BASE_URL", ["apply", "--yes"],
     "AVIATOR_BASE_URL: refusing plain http:// to aviator.example.com"),
])
def test_plain_http_to_a_non_loopback_host_is_refused(workspace, tmp_path: Path, variable: str,
                                                      args: list[str], message: str) -> None:
    ws = workspace(FIXTURE)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    ws.cli.env.update({"GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_REPOSITORY": "acme/pipelines",
                       "GITHUB_EVENT_PATH": str(event), "GITHUB_SHA": SHA,
                       "AVIATOR_API_TOKEN": AVIATOR_TOKEN, "AVIATOR_PROJECT": "web-pipelines",
                       "AVIATOR_ENVIRONMENT": "production"})
    ws.write("web", [pipeline("main", name="Renamed"), pipeline("old")])
    host = variable.split("_")[0].lower().replace("launchdarkly", "ld")
    result = ws.run(*args, env={variable: f"http://{host}.example.com"})
    assert message in result.stderr
    # Aviator reporting is best effort: the apply goes on, unreported.
    assert result.returncode == (0 if variable == "AVIATOR_BASE_URL" else 1)


def test_tls_verification_is_on_and_the_environment_cannot_turn_it_off(
        workspace, recorder, certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    server = recorder(tls=True)
    # The server works for a client that trusts its certificate...
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    assert httpx.get(f"{server.url}/echo/x", verify=trusting).status_code == 400
    before = len(server.requests())
    for name, value in NO_VERIFY.items():
        monkeypatch.setenv(name, value)

    async def no_wait(_: float) -> None:
        pass

    # ...but not for LaunchDarkly's client (in process: it would retry for half a minute)...
    async def list_pipelines() -> None:
        settings = LaunchDarklySettings(base_uri=server.url, token=TOKEN, max_retries=1)
        async with LaunchDarklyClient(settings, sleep=no_wait) as client:
            await client.list_pipelines("web")

    with pytest.raises(ApiError, match="cannot verify the TLS certificate"):
        asyncio.run(list_pipelines())
    # ...nor GitHub's...
    settings = GitHubSettings(api_url=server.url, repository="acme/pipelines",
                              token=GITHUB_TOKEN)
    with (GitHubClient(settings, sleep=lambda _: None) as github,
          pytest.raises(ApiError, match="cannot verify the TLS certificate")):
        github.request("GET", github.repo_path("issues"))
    # ...nor Aviator's, through the CLI: a warning, and the apply goes on.
    ws = workspace(FIXTURE)
    ws.cli.env.update({"AVIATOR_API_TOKEN": AVIATOR_TOKEN, "AVIATOR_PROJECT": "web-pipelines",
                       "AVIATOR_ENVIRONMENT": "production", "AVIATOR_BASE_URL": server.url,
                       "GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "acme/pipelines", **NO_VERIFY})
    ws.write("web", [pipeline("main", name="Renamed"), pipeline("old")])
    applied = ws.run("apply", "--yes")
    assert applied.returncode == 0
    assert "cannot verify the TLS certificate of" in applied.stderr
    assert len(server.requests()) == before  # no request got past the handshake


def test_no_option_turns_tls_verification_off() -> None:
    def options(command: click.Command) -> list[str]:
        found = [name for param in command.params for name in param.opts]
        if isinstance(command, click.Group):
            context = click.Context(command)  # get_command imports a lazy command's module
            found += [o for name in command.list_commands(context)
                      for o in options(command.get_command(context, name))]
        return found

    suspicious = [o for o in options(cli)
                  if any(word in o.lower() for word in ("insecure", "verify", "tls", "ssl",
                                                        "cert"))]
    assert suspicious == []


def _listening(port: int) -> set[str]:
    """Local addresses with a socket listening on `port` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's socket table")
def test_the_sandbox_listens_on_loopback_unless_told_otherwise(serve, tmp_path: Path) -> None:
    served = serve([sys.executable, "-m", "reconciler", "sandbox", "serve", "--port", "0",
                    "--state", str(tmp_path / "state.json")], "sandbox-default-host")
    assert served.url.startswith("http://127.0.0.1:")
    assert _listening(int(served.url.rsplit(":", 1)[1])) == {"0100007F"}  # 127.0.0.1


def test_the_sandbox_wants_an_authorization_header(sandbox_server) -> None:
    server = sandbox_server(FIXTURE)
    body = pipeline("intruder")
    routes = [
        ("GET", "/api/v2/projects/web/release-pipelines", None),
        ("POST", "/api/v2/projects/web/release-pipelines", body),
        ("GET", "/api/v2/projects/web/release-pipelines/main", None),
        ("PUT", "/api/v2/projects/web/release-pipelines/main", body),
        ("DELETE", "/api/v2/projects/web/release-pipelines/old", None),
        ("GET", "/api/v2/projects/web/release-pipelines/main/releases", None),
        ("GET", "/api/v2/projects/web", None),
        ("PATCH", "/api/v2/projects/web",
         [{"op": "replace", "path": "/defaultReleasePipelineKey", "value": "old"}]),
        ("GET", "/api/v2/projects/web/environments", None),
        ("GET", "/api/v2/segments/web/test", None),
        ("GET", "/api/releases/web-pipelines/environments/production/deployments", None),
        ("POST", "/api/releases/web-pipelines/releases/2026.01.01-1a2b3c4-rc1",
         {"repo": "acme/pipelines", "commit": SHA}),
    ]
    before = server.state_path.read_bytes()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for method, path, sent in routes:
            version = "beta" if "release-pipelines" in path else "20240415"
            for authorization in (None, ""):
                headers = {"LD-API-Version": version}
                if authorization is not None:
                    headers["Authorization"] = authorization
                answer = client.request(method, path, json=sent, headers=headers)
                assert answer.status_code == 401, (method, path, authorization)
        # Aviator's routes want a Bearer token, not LaunchDarkly's bare one.
        answer = client.get(routes[-2][1], headers={"Authorization": TOKEN})
        assert answer.status_code == 401
    assert server.state_path.read_bytes() == before
