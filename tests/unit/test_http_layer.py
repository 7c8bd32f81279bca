"""The same families of failures, through the one HTTP layer, for every service the tool
calls: a 429 with `Retry-After`, a 5xx, a refused connection, a certificate that does not
verify, and a server that echoes the token. Each service is driven through its own
client's public calls, on a fake clock (sleeps are recorded, never slept)."""

import asyncio
import gc
import random
import ssl
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from reconciler.aviator import AviatorClient
from reconciler.errors import ApiError, Unreachable
from reconciler.github.client import GitHubClient, GitHubSettings
from reconciler.http.pacing import Wait, ignore_wait
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.settings import LaunchDarklySettings
from tests.faketime import FakeTime

TOKEN = "canary-7d1e2f3a4b5c6d7e8f90"
Handler = Callable[[httpx.Request], httpx.Response]
OnWait = Callable[[Wait], None]


@dataclass(frozen=True)
class Case:
    """One service: a GET through its client, the route it names, and the answer that
    succeeds."""

    name: str
    route: str
    success: httpx.Response
    get: Callable[[Handler, FakeTime, OnWait], object]


def _launchdarkly(handler: Handler, fake: FakeTime, on_wait: OnWait = ignore_wait) -> object:
    settings = LaunchDarklySettings(base_uri="https://ld.test", token=TOKEN,
                                    base_uri_source="--base-uri")

    async def main() -> object:
        async with LaunchDarklyClient(settings, transport=httpx.MockTransport(handler),
                                      sleep=fake.sleep, rng=random.Random(1),
                                      clock=fake.clock, on_wait=on_wait) as client:
            return await client.get_project("web")

    return asyncio.run(main())


def _github(handler: Handler, fake: FakeTime, on_wait: OnWait = ignore_wait) -> object:
    settings = GitHubSettings(api_url="https://github.test", repository="acme/p", token=TOKEN)
    with GitHubClient(settings, transport=httpx.MockTransport(handler),
                      sleep=fake.sleep_blocking, clock=fake.clock, on_wait=on_wait) as client:
        return client.request("GET", client.repo_path("issues")).json()


def _aviator(handler: Handler, fake: FakeTime, on_wait: OnWait = ignore_wait) -> object:
    async def main() -> object:
        async with AviatorClient("https://aviator.test", TOKEN,
                                 transport=httpx.MockTransport(handler), sleep=fake.sleep,
                                 clock=fake.clock, on_wait=on_wait) as client:
            return await client.list_deployments("p", "prod")

    return asyncio.run(main())


CASES = [
    Case("launchdarkly", "GET /api/v2/projects/web", httpx.Response(200, json={"key": "web"}),
         _launchdarkly),
    Case("github", "GET /repos/acme/p/issues", httpx.Response(200, json=[]), _github),
    Case("aviator", "GET /api/releases/p/environments/prod/deployments",
         httpx.Response(200, json=[]), _aviator),
]
HOSTS = {"launchdarkly": "ld.test", "github": "github.test", "aviator": "aviator.test"}


def answers(*replies: httpx.Response | Exception) -> tuple[Handler, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    pending = list(replies)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        reply = pending.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return handler, seen


def refused() -> httpx.ConnectError:
    error = httpx.ConnectError("All connection attempts failed")
    error.__cause__ = ConnectionRefusedError(111, "Connect call failed")
    return error


def unverified() -> httpx.ConnectError:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "self-signed certificate"
    cause.reason = "CERTIFICATE_VERIFY_FAILED"
    error = httpx.ConnectError("certificate verify failed")
    error.__cause__ = cause
    return error


@pytest.fixture(params=CASES, ids=[case.name for case in CASES])
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


def test_a_429_waits_at_least_what_retry_after_asks_then_retries(case: Case) -> None:
    fake = FakeTime()
    handler, seen = answers(httpx.Response(429, headers={"Retry-After": "5"}), case.success)
    assert case.get(handler, fake) is not None
    assert len(seen) == 2
    (wait,) = fake.sleeps
    assert 5 <= wait <= 5.25  # what was asked, plus at most the jitter


def test_a_429_asking_past_the_cap_never_hangs(case: Case) -> None:
    fake = FakeTime()
    far = httpx.Response(429, headers={"Retry-After": "7200"})
    handler, _ = answers(far, far, case.success)
    with pytest.raises(ApiError, match=r"the server asks to wait 7200s, more than the \d+s cap"):
        case.get(handler, fake)
    assert sum(fake.sleeps) <= 300  # at most one capped wait: GitHub's cap is the largest


def test_a_5xx_on_a_read_is_retried_with_backoff(case: Case) -> None:
    fake = FakeTime()
    handler, seen = answers(httpx.Response(503), httpx.Response(502), case.success)
    assert case.get(handler, fake) is not None
    assert len(seen) == 3
    assert len(fake.sleeps) == 2 and fake.sleeps[1] >= fake.sleeps[0] / 2 > 0


def test_5xx_retries_run_out_in_one_line(case: Case) -> None:
    fake = FakeTime()
    handler, seen = answers(*[httpx.Response(500)] * 20)
    with pytest.raises(ApiError) as raised:
        case.get(handler, fake)
    retries = len(seen) - 1
    assert retries >= 2
    assert str(raised.value) == (f"{case.route}: 500 Internal Server Error "
                                 f"(gave up after {retries} retries)")


def test_a_refused_connection_is_retried_briefly_and_names_the_host(case: Case) -> None:
    fake = FakeTime()
    handler, seen = answers(*[refused()] * 10)
    with pytest.raises(Unreachable) as raised:
        case.get(handler, fake)
    assert 2 <= len(seen) <= 4  # a short budget, whatever the service's retries
    message = str(raised.value)
    assert message.startswith(f"{case.route}: {HOSTS[case.name]} refused the connection; ")
    assert "\n" not in message


def test_a_certificate_that_does_not_verify_is_not_retried(case: Case) -> None:
    fake = FakeTime()
    handler, seen = answers(unverified(), case.success)
    with pytest.raises(Unreachable) as raised:
        case.get(handler, fake)
    assert len(seen) == 1 and fake.sleeps == []
    assert str(raised.value).startswith(
        f"{case.route}: cannot verify the TLS certificate of {HOSTS[case.name]} "
        "(self-signed certificate); if the host is right, point SSL_CERT_FILE at a CA bundle")


@pytest.mark.parametrize("status", [400, 500])
def test_a_token_echoed_by_the_server_is_never_shown(case: Case, status: int) -> None:
    fake = FakeTime()
    echo = httpx.Response(status, json={"message": f"bad token {TOKEN}",
                                        "error": f"bad token {TOKEN}"})
    handler, _ = answers(*[echo] * 20)
    with pytest.raises(ApiError) as raised:
        case.get(handler, fake)
    assert TOKEN not in str(raised.value)
    assert "bad token ***" in str(raised.value)


def test_a_transport_error_naming_the_token_is_redacted(case: Case) -> None:
    fake = FakeTime()
    handler, _ = answers(*[httpx.ReadError(f"reset by peer for {TOKEN}")] * 20)
    with pytest.raises(ApiError) as raised:
        case.get(handler, fake)
    assert TOKEN not in str(raised.value) and "***" in str(raised.value)


def test_long_waits_reach_the_callback_and_never_print(
        case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    fake = FakeTime()
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": "5"}), case.success,
                         httpx.Response(429, headers={"Retry-After": "1"}), case.success)
    waits: list[Wait] = []
    case.get(handler, fake, waits.append)
    assert capsys.readouterr() == ("", "")
    (wait,) = waits
    assert 5 <= wait.seconds <= 5.25
    assert wait.reason.startswith(f"before retrying {case.route}: 429")
    case.get(handler, fake, waits.append)
    assert len(waits) == 1  # waits of 3 s or less are not announced


def test_by_default_a_long_wait_is_neither_printed_nor_logged(
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """Library code never prints: only the CLI's own `on_wait` shows a wait."""
    handler, _ = answers(httpx.Response(429, headers={"Retry-After": "5"}),
                         httpx.Response(200, json=[]))
    fake = FakeTime()
    with caplog.at_level("DEBUG", logger="reconciler"):
        assert _github(handler, fake) == []
    assert fake.sleeps and fake.sleeps[0] >= 5  # the wait was long enough to announce
    assert caplog.records == []
    assert capsys.readouterr() == ("", "")


def test_a_response_read_is_freed_without_the_cycle_collector() -> None:
    made: list[weakref.ref[httpx.Response]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        response = httpx.Response(200, json={"key": "web"})
        made.append(weakref.ref(response))
        return response

    gc.collect()
    gc.disable()
    try:
        assert _launchdarkly(handler, FakeTime()) == {"key": "web"}
        assert [ref() for ref in made] == [None]
    finally:
        gc.enable()
