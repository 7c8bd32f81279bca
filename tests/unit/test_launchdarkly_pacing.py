"""Retries, rate-limit waits and pacing, on a fake clock: every sleep is recorded and
jumps the clock instead of waiting."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from reconciler.errors import ApiError
from reconciler.http.pacing import Announcer, RateLimitGate, Wait, ignore_wait
from reconciler.launchdarkly import LaunchDarklyClient
from reconciler.settings import LaunchDarklySettings
from tests.faketime import START, FakeTime

CANARY = "api-canary-8e2f4c6d-token"
PIPELINES = "/api/v2/projects/web/release-pipelines"
EMPTY = {"items": [], "totalCount": 0}


def run(
    fake: FakeTime,
    handler: Callable[[httpx.Request], Any],
    action: Callable[[LaunchDarklyClient], Awaitable[Any]],
    on_wait: Callable[[Wait], None] = ignore_wait,
    **options: Any,
) -> Any:
    settings = LaunchDarklySettings(base_uri="https://ld.test", token=CANARY, **options)

    async def main() -> Any:
        async with LaunchDarklyClient(
            settings, transport=httpx.MockTransport(handler), sleep=fake.sleep,
            rng=random.Random(3), clock=fake.clock, on_wait=on_wait,
        ) as client:
            return await action(client)

    return asyncio.run(main())


def sequence(*answers: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    pending = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = pending.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def rate_limited(**headers: str) -> httpx.Response:
    return httpx.Response(
        429, headers={k.replace("_", "-"): v for k, v in headers.items()},
        json={"code": "rate_limited", "message": "You've exceeded the API rate limit."},
    )


# --- waits on refused requests ---------------------------------------------------------


def test_429_waits_until_a_future_reset() -> None:
    fake = FakeTime()
    handler = sequence(rate_limited(X_Ratelimit_Reset=fake.epoch_ms(5)),
                       httpx.Response(200, json=EMPTY))
    assert run(fake, handler, lambda c: c.list_pipelines("web")) == []
    (wait,) = fake.sleeps
    assert 5 <= wait <= 5.25  # the reset plus at most the retry jitter


def test_429_with_a_reset_in_the_past_still_backs_off() -> None:
    # A client clock ahead of LaunchDarkly's sees every reset in the past.
    fake = FakeTime()
    handler = sequence(rate_limited(X_Ratelimit_Reset=fake.epoch_ms(-30)),
                       httpx.Response(200, json=EMPTY))
    run(fake, handler, lambda c: c.list_pipelines("web"))
    (wait,) = fake.sleeps
    assert 0.5 <= wait <= 1.0  # the 429 backoff's first step: half to all of 1 s


def test_429_waits_for_the_later_of_the_global_and_token_resets() -> None:
    fake = FakeTime()
    handler = sequence(
        rate_limited(X_Ratelimit_Reset=fake.epoch_ms(2),
                     X_Ratelimit_Auth_Token_Reset=fake.epoch_ms(7)),
        httpx.Response(200, json=EMPTY),
    )
    run(fake, handler, lambda c: c.list_pipelines("web"))
    (wait,) = fake.sleeps
    assert 7 <= wait <= 7.25


def test_429_honours_retry_after_seconds() -> None:
    fake = FakeTime()
    handler = sequence(rate_limited(Retry_After="3"), httpx.Response(200, json=EMPTY))
    run(fake, handler, lambda c: c.list_pipelines("web"))
    (wait,) = fake.sleeps
    assert 3 <= wait <= 3.25


def test_5xx_then_success_backs_off_once() -> None:
    fake = FakeTime()
    handler = sequence(httpx.Response(503), httpx.Response(200, json={"key": "web"}))
    assert run(fake, handler, lambda c: c.get_project("web")) == {"key": "web"}
    (wait,) = fake.sleeps
    assert 0.125 <= wait <= 0.25


def test_transport_errors_are_retried() -> None:
    fake = FakeTime()
    handler = sequence(httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                       httpx.Response(200, json={"key": "web"}))
    assert run(fake, handler, lambda c: c.get_project("web")) == {"key": "web"}
    assert len(fake.sleeps) == 2
    assert fake.sleeps[1] > fake.sleeps[0] / 2  # the backoff grows


def test_exhausted_retries_name_method_and_route_but_never_the_token() -> None:
    fake = FakeTime()
    answer = httpx.Response(500, json={"code": "internal", "message": f"token {CANARY} broke"})
    handler = sequence(*[answer] * 4)
    with pytest.raises(ApiError) as raised:
        run(fake, handler, lambda c: c.list_pipelines("web"), max_retries=3)
    message = str(raised.value)
    assert message.startswith(f"GET {PIPELINES}: 500 ")
    assert message.endswith("(gave up after 3 retries)")
    assert CANARY not in message
    assert CANARY not in repr(raised.value.args)
    assert len(fake.sleeps) == 3


def test_exhausted_transport_errors_are_an_api_error_without_status() -> None:
    fake = FakeTime()
    handler = sequence(*[httpx.ReadError("connection reset by peer")] * 3)
    with pytest.raises(ApiError) as raised:
        run(fake, handler, lambda c: c.get_project("web"), max_retries=2)
    assert raised.value.status is None
    assert str(raised.value) == (
        "GET /api/v2/projects/web: request failed: ReadError: connection reset by peer "
        "(gave up after 2 retries)"
    )


def test_post_refused_with_429_is_sent_again_without_a_re_read() -> None:
    fake = FakeTime()
    seen: list[str] = []
    answers = sequence(rate_limited(Retry_After="1"), httpx.Response(201, json={"key": "k"}))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return answers(request)

    run(fake, handler, lambda c: c.create_pipeline("web", {"key": "k", "name": "K", "phases": []}))
    assert seen == ["POST", "POST"]


# --- pacing ----------------------------------------------------------------------------


def test_remaining_zero_holds_the_next_request_until_the_reset() -> None:
    fake = FakeTime()
    sent_at: list[float] = []
    reset = fake.now + 2

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake.now)
        return httpx.Response(200, json={"key": "web"}, headers={
            "X-Ratelimit-Route-Remaining": "0", "X-Ratelimit-Reset": str(int(reset * 1000))})

    async def twice(client: LaunchDarklyClient) -> None:
        await client.get_project("web")
        await client.get_project("web")

    run(fake, handler, twice)
    assert sent_at[0] == START
    assert sent_at[1] >= reset


def test_429_holds_back_the_other_workers_too() -> None:
    fake = FakeTime()
    sent_at: list[float] = []
    reset = fake.now + 4

    async def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake.now)
        if len(sent_at) == 1:
            return rate_limited(X_Ratelimit_Reset=str(int(reset * 1000)))
        return httpx.Response(200, json={"key": "web"})

    async def first_refused_then_another(client: LaunchDarklyClient) -> None:
        refused = asyncio.create_task(client.get_project("web"))
        while not sent_at:
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # let the 429 come back and close the gate
        await asyncio.gather(refused, client.get_project("other"))

    run(fake, handler, first_refused_then_another)
    assert len(sent_at) == 3
    assert min(sent_at[1:]) >= reset


def test_gate_spends_the_allowance_left_after_requests_in_flight() -> None:
    fake = FakeTime()
    gate = RateLimitGate(fake.sleep, fake.clock, random.Random(0), cap=60,
                         announce=Announcer(fake.clock))

    async def scenario() -> None:
        for _ in range(3):
            await gate.enter()
        # One request answers: 3 remaining, but 2 more are in flight and may count.
        gate.leave([(3, START + 1)])
        await gate.enter()  # the 1 that is left
        assert fake.sleeps == []
        await gate.enter()  # none left: waits for the window to reset
        assert len(fake.sleeps) == 1
        assert fake.now >= START + 1

    asyncio.run(scenario())


def test_paced_run_stays_under_the_limit() -> None:
    """A server allowing 50 requests per one-second window, concurrency 8: pacing keeps
    429s under 5% (with the gate disabled, this load draws about 14%)."""
    fake = FakeTime()
    statuses: list[int] = []
    window = {"end": 0.0, "used": 0}

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)  # let other workers interleave, as on a real server
        fake.now += 0.004  # service time: unpaced, 8 workers would send ~250 req/s
        if fake.now >= window["end"]:
            window["end"], window["used"] = float(int(fake.now) + 1), 0
        window["used"] += 1
        remaining = max(0, 50 - window["used"])
        headers = {"X-Ratelimit-Route-Remaining": str(remaining),
                   "X-Ratelimit-Reset": str(int(window["end"] * 1000))}
        await asyncio.sleep(0)
        status = 429 if window["used"] > 50 else 200
        statuses.append(status)
        return httpx.Response(status, headers=headers, json={"key": "web"})

    async def many(client: LaunchDarklyClient) -> None:
        await asyncio.gather(*(client.get_project(f"p{i}") for i in range(400)))

    run(fake, handler, many, concurrency=8)
    assert statuses.count(200) == 400
    assert statuses.count(429) / len(statuses) < 0.05


# --- every wait is capped --------------------------------------------------------------

HOUR = 3600.0


class Announced(list[str]):
    """The waits the client announced, through the `on_wait` it was given (the CLI
    prints them on stderr)."""

    def __call__(self, wait: Wait) -> None:
        self.append(str(wait))


@pytest.fixture
def announced() -> Announced:
    return Announced()


def test_remaining_zero_with_a_reset_an_hour_away_waits_the_cap_once(
        announced: Announced) -> None:
    fake = FakeTime()
    reset = fake.epoch_ms(HOUR)
    sent_at: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake.now)
        return httpx.Response(200, json={"key": "web"}, headers={
            "X-Ratelimit-Route-Remaining": "0", "X-Ratelimit-Reset": reset})

    async def four(client: LaunchDarklyClient) -> None:
        for _ in range(4):
            await client.get_project("web")

    run(fake, handler, four, announced)
    (wait,) = fake.sleeps  # one hold, then the run goes on
    assert 60 <= wait <= 60.05
    assert len(sent_at) == 4 and sent_at[-1] - START < 61
    assert announced == ["waiting 60s: the rate limit's budget is spent until its window resets"]


def test_a_reset_an_hour_away_on_a_429_waits_the_cap_then_fails_in_one_line() -> None:
    fake = FakeTime()
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(fake.now)
        return rate_limited(X_Ratelimit_Reset=str(int((START + HOUR) * 1000)))

    with pytest.raises(ApiError) as raised:
        run(fake, handler, lambda c: c.get_project("web"))
    assert len(calls) == 2
    assert fake.sleeps == [60.0]
    message = str(raised.value)
    assert message.startswith("GET /api/v2/projects/web: 429 You've exceeded the API rate limit.")
    assert "the server asks to wait 3540s, more than the 60s cap (RECONCILER_MAX_WAIT)" in message
    assert message.endswith("(gave up after 1 retries)")


def test_a_far_reset_then_success_waits_only_the_cap() -> None:
    fake = FakeTime()
    handler = sequence(rate_limited(Retry_After=str(int(HOUR))), httpx.Response(200, json=EMPTY))
    assert run(fake, handler, lambda c: c.list_pipelines("web")) == []
    assert fake.sleeps == [60.0]


def test_the_cap_is_a_setting_and_bounds_backoff_and_headers_alike() -> None:
    fake = FakeTime()
    answers = [httpx.Response(503)] * 7 + [rate_limited(Retry_After="30"),
                                           httpx.Response(200, json={"key": "web"})]
    run(fake, sequence(*answers), lambda c: c.get_project("web"), max_wait_seconds=2)
    assert len(fake.sleeps) == 8
    assert max(fake.sleeps) == 2.0
    # 5xx backoff ceilings 0.25, 0.5, 1, 2 then capped at 2 s; the 30 s ask is capped too.
    assert fake.sleeps[4:] == [2.0, 2.0, 2.0, 2.0]


def test_long_waits_are_announced_once_for_all_workers(announced: Announced) -> None:
    fake = FakeTime()
    refused: set[str] = set()

    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0)
        if request.url.path not in refused:
            refused.add(request.url.path)
            return rate_limited(Retry_After="20")
        return httpx.Response(200, json={"key": "web"})

    async def eight(client: LaunchDarklyClient) -> None:
        await asyncio.gather(*(client.get_project(f"p{i}") for i in range(8)))

    run(fake, handler, eight, announced)
    assert len(announced) == 1, announced
    assert announced[0].startswith("waiting 20s: before retrying GET /api/v2/projects/p")
    assert "429 You've exceeded the API rate limit." in announced[0]


def test_short_waits_are_not_announced(announced: Announced) -> None:
    fake = FakeTime()
    handler = sequence(httpx.Response(503), rate_limited(Retry_After="2"),
                       httpx.Response(200, json={"key": "web"}))
    run(fake, handler, lambda c: c.get_project("web"), announced)
    assert len(fake.sleeps) == 2
    assert announced == []


# --- always back off -------------------------------------------------------------------

# The 429 backoff's ceilings for retries 1 to 8 (base 1 s, doubling, at most 8 s); each
# wait is between half the ceiling and all of it.
CEILINGS_429 = [1, 2, 4, 8, 8, 8, 8, 8]


@pytest.mark.parametrize("headers", [
    {"Retry-After": "0"},
    {"X-Ratelimit-Reset": "past"},
    {"X-Ratelimit-Reset": "past", "X-Ratelimit-Auth-Token-Reset": "past", "Retry-After": "0"},
    {},
])
def test_a_429_storm_backs_off_whatever_the_headers_say(headers: dict[str, str]) -> None:
    fake = FakeTime()

    def handler(request: httpx.Request) -> httpx.Response:
        # Re-stamped on each answer: the reset stays a second behind the client's clock.
        stamped = {k: fake.epoch_ms(-1) if v == "past" else v for k, v in headers.items()}
        return httpx.Response(429, headers=stamped, json={"code": "rate_limited",
                                                          "message": "slow down"})

    with pytest.raises(ApiError, match=r"429 slow down \(rate_limited\) \(gave up after 8"):
        run(fake, handler, lambda c: c.get_project("web"))
    assert len(fake.sleeps) == 8
    for wait, ceiling in zip(fake.sleeps, CEILINGS_429, strict=True):
        assert ceiling / 2 <= wait <= ceiling
    assert sum(fake.sleeps) >= 23.5  # more than two of LaunchDarkly's 10 s windows


def test_headers_lengthen_a_wait_but_never_shorten_it_below_the_floor() -> None:
    fake = FakeTime()
    handler = sequence(rate_limited(Retry_After="5"), rate_limited(Retry_After="1"),
                       rate_limited(Retry_After="1"), rate_limited(Retry_After="0.1"),
                       httpx.Response(200, json={"key": "web"}))
    run(fake, handler, lambda c: c.get_project("web"))
    first, second, third, fourth = fake.sleeps
    assert 5 <= first <= 5.25  # the header is longer than the backoff: it wins
    assert 1 <= second <= 2  # retry 2's backoff is 1-2 s, the header 1-1.25 s
    assert 2 <= third <= 4  # the floor: half of retry 3's 4 s ceiling
    assert 4 <= fourth <= 8


# --- failing to connect ----------------------------------------------------------------


def refused(message: str = "All connection attempts failed") -> httpx.ConnectError:
    """A ConnectError as httpx raises it for a refused connection (the cause chained)."""
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except ConnectionRefusedError as cause:
        error = httpx.ConnectError(message)
        error.__cause__ = cause
        return error


def test_a_refused_connection_gets_a_short_retry_and_names_host_and_setting() -> None:
    fake = FakeTime()
    handler = sequence(*[refused()] * 9)
    with pytest.raises(ApiError) as raised:
        run(fake, handler, lambda c: c.get_project("web"), base_uri_source="--base-uri")
    assert len(fake.sleeps) == 3  # four attempts, not nine
    assert sum(fake.sleeps) <= 1.75
    assert str(raised.value) == (
        "GET /api/v2/projects/web: ld.test refused the connection; the address comes from "
        "--base-uri (gave up after 3 retries)")


def test_a_post_that_could_not_connect_is_retried_without_a_re_read() -> None:
    fake = FakeTime()
    seen: list[str] = []
    answers = sequence(refused(), httpx.Response(201, json={"key": "k"}))

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        return answers(request)

    run(fake, handler, lambda c: c.create_pipeline("web", {"key": "k", "name": "K", "phases": []}))
    assert seen == ["POST", "POST"]  # the first never reached the server: no GET needed
