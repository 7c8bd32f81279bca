"""The network's failures, end to end: a refused connection, a failed DNS lookup and a
certificate that does not verify fail fast in one line naming the host and the setting
that chose it; waits are capped and backed off against the sandbox.

Waits are never timed: the in-process runs inject a sleep that records and returns.
"""

import asyncio
import http.server
import json
import random
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_harness import TOKEN, Cli, pipeline, project

from reconciler.engine import build_plan
from reconciler.errors import ApiError
from reconciler.github.client import GitHubClient, GitHubSettings
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.manifest import load_desired
from reconciler.plan import PlanOptions
from reconciler.sandbox import transport
from reconciler.settings import LaunchDarklySettings, resolve_settings, sandbox_settings
from tests.builders import dump_yaml
from tests.faketime import START, FakeTime

pytestmark = pytest.mark.integration

HOUR = 3600.0
ROUTE = "/api/v2/projects/web/release-pipelines"
FIXTURE = {"projects": {"web": project([pipeline("main"), pipeline("old")], default="main")}}


class Counting(httpx.AsyncBaseTransport):
    """Counts the attempts that reach a real transport (connections tried)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def drive(settings: LaunchDarklySettings, send: httpx.AsyncBaseTransport, fake: FakeTime,
          action: Callable[[LaunchDarklyClient], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        async with LaunchDarklyClient(settings, transport=send, sleep=fake.sleep,
                                      rng=random.Random(5), clock=fake.clock) as client:
            return await action(client)

    return asyncio.run(main())


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port with nothing listening (held, so nothing else takes it)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    folder = tmp_path / "pipelines" / "web"
    folder.mkdir(parents=True)
    dump_yaml(pipeline("main"), folder / "main.yaml")
    return Cli(tmp_path, "http://127.0.0.1:9", tmp_path / "pipelines")


# --- failing to connect ----------------------------------------------------------------


def test_a_refused_connection_is_retried_briefly_then_named(closed_port: int) -> None:
    fake = FakeTime()
    url = f"http://127.0.0.1:{closed_port}"
    settings = LaunchDarklySettings(base_uri=url, token=TOKEN, base_uri_source="--base-uri")
    counting = Counting(httpx.AsyncHTTPTransport())
    with pytest.raises(ApiError) as raised:
        drive(settings, counting, fake, lambda c: c.list_pipelines("web"))
    assert counting.attempts == 4 and len(fake.sleeps) == 3  # not the 9 of other failures
    assert str(raised.value) == (
        f"GET {ROUTE}: 127.0.0.1:{closed_port} refused the connection; the address comes "
        "from --base-uri (gave up after 3 retries)")


@pytest.mark.parametrize("how", ["variable", "flag"])
def test_the_cli_says_which_setting_chose_an_unreachable_host(cli: Cli, closed_port: int,
                                                              how: str) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    if how == "flag":
        result = cli.run("plan", "--base-uri", url)
        setting = "--base-uri"
    else:
        result = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": url})
        setting = "LAUNCHDARKLY_BASE_URI"
    assert result.returncode == 1
    assert result.stderr == (
        f"error: GET {ROUTE}: 127.0.0.1:{closed_port} refused the connection; the address "
        f"comes from {setting} (gave up after 3 retries)\n")


def test_an_unreachable_host_ends_the_run_once_not_per_project(cli: Cli,
                                                               closed_port: int) -> None:
    for key in ("api", "mobile"):
        (cli.pipelines_dir / key).mkdir()
        dump_yaml(pipeline("main"), cli.pipelines_dir / key / "main.yaml")
    result = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": f"http://127.0.0.1:{closed_port}"})
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: GET /api/v2/projects/")
    assert line.endswith(f": 127.0.0.1:{closed_port} refused the connection; the address comes "
                         "from LAUNCHDARKLY_BASE_URI (gave up after 3 retries)")


def test_a_failed_dns_lookup_names_the_default_host(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up: list[str] = []

    def no_such_host(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host.decode() if isinstance(host, bytes) else host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    fake = FakeTime()
    settings = resolve_settings(None, None, {"LAUNCHDARKLY_ACCESS_TOKEN": TOKEN})
    with pytest.raises(ApiError) as raised:
        drive(settings, httpx.AsyncHTTPTransport(), fake, lambda c: c.get_project("web"))
    assert looked_up == ["app.launchdarkly.com"] * 4
    assert len(fake.sleeps) == 3
    assert str(raised.value) == (
        "GET /api/v2/projects/web: cannot resolve the host of app.launchdarkly.com (DNS: Name "
        "or service not known); this is the default address; set --base-uri or "
        "LAUNCHDARKLY_BASE_URI to use another (gave up after 3 retries)")


def test_a_certificate_that_does_not_verify_is_not_retried(recorder, certificate) -> None:
    server = recorder(tls=True)
    fake = FakeTime()
    settings = LaunchDarklySettings(base_uri=server.url, token=TOKEN,
                                    base_uri_source="LAUNCHDARKLY_BASE_URI")
    counting = Counting(httpx.AsyncHTTPTransport())
    with pytest.raises(ApiError) as raised:
        drive(settings, counting, fake, lambda c: c.list_pipelines("web"))
    where = server.url.removeprefix("https://")
    assert counting.attempts == 1 and fake.sleeps == []
    assert str(raised.value) == (
        f"GET {ROUTE}: cannot verify the TLS certificate of {where} (self-signed certificate); "
        "if the host is right, point SSL_CERT_FILE at a CA bundle that holds its issuer; "
        "the address comes from LAUNCHDARKLY_BASE_URI")


def test_the_certificate_message_says_what_fixes_it(cli: Cli, recorder, certificate) -> None:
    server = recorder(tls=True)
    refused = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": server.url})
    assert refused.returncode == 1
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"error: GET {ROUTE}: cannot verify the TLS certificate of ")
    assert "SSL_CERT_FILE" in line
    assert server.requests() == []
    # Doing what it says gets past TLS: the fake server answers (a 400: it is no LaunchDarkly).
    trusted = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": server.url,
                                   "SSL_CERT_FILE": str(certificate[0])})
    assert ": 400 rejected credentials: *** (invalid_request)" in trusted.stdout + trusted.stderr
    assert [r["path"] for r in server.requests()] == [ROUTE]


def test_a_tls_handshake_with_a_plain_http_server_is_not_retried(sandbox_server) -> None:
    plain = sandbox_server(FIXTURE)
    fake = FakeTime()
    settings = LaunchDarklySettings(base_uri=plain.url.replace("http://", "https://"),
                                    token=TOKEN)
    counting = Counting(httpx.AsyncHTTPTransport())
    with pytest.raises(ApiError, match=r"the TLS handshake with 127\.0\.0\.1:\d+ failed "
                                       r"\(WRONG_VERSION_NUMBER\): is it an https:// server"):
        drive(settings, counting, fake, lambda c: c.get_project("web"))
    assert counting.attempts == 1 and fake.sleeps == []


# --- base URI mistakes -------------------------------------------------------------------


def test_a_base_uri_ending_in_api_v2_is_corrected_with_a_warning(
        cli: Cli, sandbox_server, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    server = sandbox_server(FIXTURE, "--request-log", str(log))
    result = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": f"{server.url}/api/v2/"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"warning: LAUNCHDARKLY_BASE_URI ends in /api/v2, which "
                             f"reconciler adds to every route itself: using {server.url}\n")
    assert [json.loads(line)["path"] for line in log.read_text().splitlines()] == [ROUTE]


def test_a_base_uri_with_another_path_is_one_error_line(cli: Cli) -> None:
    result = cli.run("plan", "--base-uri", "https://ld.example.com/api/v2/projects")
    assert result.returncode == 1
    assert result.stderr == ("error: --base-uri must be scheme://host[:port] with no path, got "
                             "the path '/api/v2/projects' (reconciler adds /api/v2/... itself)\n")


# --- waits against the sandbox ---------------------------------------------------------


class Rewriting(httpx.AsyncBaseTransport):
    """The sandbox behind a proxy that rewrites its answers: `rewrite(n, response)` for
    the n-th answer (from 0) returns the answer the client gets."""

    def __init__(self, inner: httpx.AsyncBaseTransport,
                 rewrite: Callable[[int, httpx.Response], httpx.Response]) -> None:
        self.inner = inner
        self.rewrite = rewrite
        self.answers = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        number, self.answers = self.answers, self.answers + 1
        return self.rewrite(number, response)


def plan_through(sandbox_app, tmp_path: Path, fake: FakeTime,
                 rewrite: Callable[[int, httpx.Response], httpx.Response],
                 times: int = 1) -> Any:
    """Plan `times` times in a row with one client, through a Rewriting proxy."""
    app = sandbox_app(FIXTURE).app
    folder = tmp_path / "pipelines" / "web"
    folder.mkdir(parents=True)
    for key in ("main", "old", "new"):
        dump_yaml(pipeline(key, name=f"{key} v2"), folder / f"{key}.yaml")
    desired = list(load_desired(tmp_path / "pipelines", None).projects.values())
    proxy = Rewriting(transport(app), rewrite)

    async def plans(client: LaunchDarklyClient) -> Any:
        for _ in range(times):
            plan = await build_plan(client, desired, PlanOptions())
        return plan

    return drive(sandbox_settings(None), proxy, fake, plans), proxy


def test_a_storm_of_429s_saying_retry_now_is_backed_off(sandbox_app, tmp_path: Path) -> None:
    fake = FakeTime()

    def storm(number: int, response: httpx.Response) -> httpx.Response:
        if number >= 6:
            return response
        headers = ({"Retry-After": "0"} if number % 2 else
                   {"X-Ratelimit-Reset": str(int((fake.now - 2) * 1000))})  # clock ahead
        return httpx.Response(429, headers=headers, json={"code": "rate_limited",
                                                          "message": "slow down"})

    plan, proxy = plan_through(sandbox_app, tmp_path, fake, storm)
    assert plan.applicable and plan.has_changes
    assert proxy.answers == 7
    # Hand-computed: the 429 backoff waits half to all of 1, 2, 4, 8, 8, 8 seconds.
    for wait, ceiling in zip(fake.sleeps, [1, 2, 4, 8, 8, 8], strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_a_budget_spent_until_an_hour_away_holds_requests_once(sandbox_app,
                                                                tmp_path: Path) -> None:
    fake = FakeTime()

    def spent(number: int, response: httpx.Response) -> httpx.Response:
        headers = {**response.headers, "X-Ratelimit-Global-Remaining": "0",
                   "X-Ratelimit-Reset": str(int((fake.now + HOUR) * 1000))}
        return httpx.Response(response.status_code, headers=headers, content=response.content)

    plan, proxy = plan_through(sandbox_app, tmp_path, fake, spent, times=3)
    assert plan.has_changes and proxy.answers == 3
    (wait,) = fake.sleeps  # the cap, once: then the run goes on
    assert 60 <= wait <= 60.05


class SlowDown(http.server.BaseHTTPRequestHandler):
    """Answers the first request 429 `Retry-After: 4`, then an empty pipeline list (and
    the `test` environment, which the plan's reference preflight asks for)."""

    answered = 0

    def do_GET(self) -> None:
        first = SlowDown.answered == 0
        SlowDown.answered += 1
        environments = self.path.split("?")[0].endswith("/environments")
        listing = {"items": [{"key": "test"}] if environments else [],
                   "totalCount": 1 if environments else 0}
        body = json.dumps({"code": "rate_limited", "message": "slow down"} if first
                          else listing).encode()
        self.send_response(429 if first else 200)
        if first:
            self.send_header("Retry-After", "4")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_long_wait_is_announced_on_stderr(cli: Cli) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowDown)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        result = cli.run("plan", env={"LAUNCHDARKLY_BASE_URI": url})
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()
    assert result.returncode == 0, result.stderr
    assert result.stderr == (f"waiting 4s: before retrying GET {ROUTE}: 429 slow down "
                             "(rate_limited)\n")
    assert SlowDown.answered == 3  # the 429, the pipelines once waited for, the environments


# --- GitHub's client shares the floor ----------------------------------------------------


def test_github_never_retries_a_rate_limit_sooner_than_its_backoff() -> None:
    answers = iter([
        httpx.Response(429, headers={"Retry-After": "0"}, json={"message": "slow down"}),
        httpx.Response(403, headers={"X-RateLimit-Remaining": "0",
                                     "X-RateLimit-Reset": str(int(START) - 5)},
                       json={"message": "API rate limit exceeded"}),
        httpx.Response(200, json=[]),
    ])
    sleeps: list[float] = []
    settings = GitHubSettings(api_url="https://api.github.test", repository="acme/pipelines",
                              token="ghs-canary-1f2e")
    with GitHubClient(settings, transport=httpx.MockTransport(lambda _: next(answers)),
                      sleep=sleeps.append, clock=lambda: START) as github:
        github.request("GET", github.repo_path("issues"))
    assert sleeps == [2.0, 4.0]  # the 5xx backoff schedule, not 0 s and 1 s
