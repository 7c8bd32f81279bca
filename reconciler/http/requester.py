"""Sending one request to a service, the same way for every service: bounded concurrency,
pacing, retries with backoff, redaction and one-line errors naming the route.

What happens after each attempt is decided by `_Attempts`, shared by the blocking driver
(GitHub's sequential calls) and the async one (LaunchDarkly's and Aviator's).
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler import USER_AGENT
from reconciler.errors import ApiError, Unreachable
from reconciler.http.faults import CONNECT_RETRIES, connect_failure
from reconciler.http.pacing import Announcer, OnWait, RateLimitGate, ignore_wait
from reconciler.http.service import REASON_LENGTH, Service

Params = Mapping[str, str | int] | None


class AmbiguousFailure(ApiError):
    """A request that is not safe to repeat failed in a way that may have applied it (a
    transport error after sending, or a 5xx): never sent again; a caller that can tell
    re-reads instead."""

    def __init__(self, error: ApiError) -> None:
        super().__init__(error.method, error.route, error.status, error.reason, error.code)
        self.error = error


def gave_up(failure: ApiError, retries: int) -> ApiError:
    return type(failure)(failure.method, failure.route, failure.status,
                         f"{failure.reason} (gave up after {retries} retries)", failure.code)


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: its error, how many retries its kind gets, whether the request
    may have been applied, and the wait the server asked for (uncapped)."""

    error: ApiError
    retries: int
    may_have_landed: bool
    wait: float | None = None
    rate_limited: bool = False


class _Layer:
    """What both drivers share: the service, the clock, the announcements, the errors."""

    def __init__(self, service: Service, *, clock: Callable[[], float], rng: random.Random,
                 on_wait: OnWait) -> None:
        self.service = service
        self._clock = clock
        self._rng = rng
        self._announce = Announcer(clock, on_wait)
        self.calls = 0  # requests sent, retries included

    def _client_options(self, transport: object) -> dict[str, Any]:
        service = self.service
        # TLS verification is httpx's default and is never turned off.
        return {
            "base_url": service.base_url,
            "transport": transport,
            "timeout": httpx.Timeout(service.timeout_seconds),
            "limits": httpx.Limits(max_connections=service.concurrency,
                                   max_keepalive_connections=service.concurrency),
            "headers": {"User-Agent": USER_AGENT, **service.headers},
        }

    def error(self, method: str, path: str, response: httpx.Response, *,
              reason: str = "") -> ApiError:
        """The ApiError for an answer: the service's message (and code) from its error
        body, else the HTTP reason phrase; `reason` overrides the text, hints stay."""
        message, code = self.service.read_error(response)
        text = self.service.hint(response, reason or message[:REASON_LENGTH])
        return ApiError(method, _route(path), response.status_code, self.service.redact(text),
                        code)

    def delay(self, retries: int, wait: float | None = None, *, rate_limited: bool = False,
              why: str = "") -> float:
        """Seconds before retry number `retries + 1`: the backoff, or longer when the server
        asked for longer (`wait`), never more than the cap; announced when long."""
        backoff = self.service.backoff
        seconds = backoff.seconds(retries, self._rng, rate_limited=rate_limited)
        if wait is not None:
            seconds = max(seconds, wait + backoff.header_jitter(self._rng))
        cap = self.service.max_wait_seconds
        if seconds > cap:
            why += f"; asked to wait {seconds:.0f}s, capped at {cap:.0f}s{self._setting()}"
            seconds = cap
        self._announce(seconds, f"before retrying {why}" if why else "before retrying")
        return seconds

    def _setting(self) -> str:
        return f" ({self.service.cap_setting})" if self.service.cap_setting else ""

    def _hold(self, until: float) -> None:
        """Hold back other requests until `until`: only where requests run side by side."""

    def _answer_failure(self, method: str, path: str, response: httpx.Response,
                        retries: int) -> _Failure | None:
        """The failure an answer is, if it is one to retry: a rate limit or a 5xx."""
        limits, now = self.service.limits, self._clock()
        limited = limits.limited(response)
        if not limited and response.status_code < 500:
            return None
        wait = limits.wait(response, now, retries)
        error = self.error(method, path, response)
        if not limited:  # a 5xx: the change may have been applied
            return _Failure(error, self.service.max_retries, True, wait)
        if wait is not None:  # the other workers wait too
            self._hold(now + min(wait, self.service.max_wait_seconds))
        return _Failure(error, self.service.max_retries, False, wait, rate_limited=True)

    def _transport_failure(self, method: str, path: str,
                           error: httpx.TransportError) -> _Failure:
        """A failure to connect names the host and where its address came from, and gets
        a short budget (none for TLS); other transport errors may have reached the server."""
        service = self.service
        connect = connect_failure(error, service.where)
        if connect is None:
            detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return _Failure(ApiError(method, _route(path), None,
                                     service.redact(f"request failed: {detail}")),
                            service.max_retries, True)
        reason = connect.reason + service.address_source
        budget = min(CONNECT_RETRIES, service.max_retries) if connect.retryable else 0
        return _Failure(Unreachable(method, _route(path), None, service.redact(reason)),
                        budget, False)

    def _past_cap(self, failure: _Failure, retries: int) -> ApiError:
        error, cap = failure.error, self.service.max_wait_seconds
        past = ApiError(error.method, error.route, error.status,
                        f"{error.reason}; the server asks to wait {failure.wait:.0f}s, more "
                        f"than the {cap:.0f}s cap{self._setting()}: try again later",
                        error.code)
        return gave_up(past, retries) if retries else past


def _route(path: str) -> str:
    """The route of a path or URL, for messages (no query, no host)."""
    return urlsplit(path).path or path


class _Attempts:
    """One request's retries. After each attempt: None to return the answer, seconds to
    wait before the next attempt, or an exception when retrying is over or unsafe."""

    def __init__(self, layer: _Layer, method: str, path: str, idempotent: bool | None) -> None:
        self._layer = layer
        self._method = method
        self._path = path
        # A POST that may have landed is never repeated blindly: it could create twice.
        self._idempotent = method != "POST" if idempotent is None else idempotent
        self._retries = 0
        self._waits_past_cap = 0

    def answered(self, response: httpx.Response) -> float | None:
        failure = self._layer._answer_failure(self._method, self._path, response,
                                              self._retries)
        return None if failure is None else self._next(failure)

    def failed(self, error: httpx.TransportError) -> float:
        return self._next(self._layer._transport_failure(self._method, self._path, error))

    def _next(self, failure: _Failure) -> float:
        layer, retries = self._layer, self._retries
        if failure.may_have_landed and not self._idempotent:
            raise AmbiguousFailure(failure.error)
        if failure.wait is not None and failure.wait > layer.service.max_wait_seconds:
            if self._waits_past_cap >= layer.service.waits_past_cap:  # no hour-long hang
                raise layer._past_cap(failure, retries)
            self._waits_past_cap += 1
        if retries >= failure.retries:
            raise gave_up(failure.error, retries) if retries else failure.error
        self._retries += 1
        return layer.delay(retries, failure.wait, rate_limited=failure.rate_limited,
                           why=str(failure.error))


class AsyncRequester(_Layer):
    """One httpx.AsyncClient (one connection pool) shared by every call, at most
    `service.concurrency` requests in flight, paced by the budget the answers report."""

    def __init__(self, service: Service, *, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float], rng: random.Random,
                 on_wait: OnWait = ignore_wait) -> None:
        super().__init__(service, clock=clock, rng=rng, on_wait=on_wait)
        self._sleep = sleep
        self._slots = asyncio.Semaphore(service.concurrency)
        self._gate = RateLimitGate(sleep, clock, rng, cap=service.max_wait_seconds,
                                   announce=self._announce)
        self._client = httpx.AsyncClient(**self._client_options(transport))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(self, method: str, path: str, *, params: Params = None, json: Any = None,
                   headers: Mapping[str, str] | None = None,
                   idempotent: bool | None = None) -> httpx.Response:
        """The first answer that is neither a rate limit nor a 5xx, after retries (a 4xx is
        returned: what it means is the caller's). Raises ApiError when retries run out,
        and AmbiguousFailure instead of repeating a request that may have landed
        (`idempotent` defaults to: not a POST)."""
        attempts = _Attempts(self, method, path, idempotent)
        while True:
            try:
                response = await self._attempt(method, path, params, json, headers)
            except httpx.TransportError as error:
                seconds = attempts.failed(error)
            else:
                seconds = attempts.answered(response)
                if seconds is None:
                    return response
            await self._sleep(seconds)

    async def backoff(self, retries: int) -> None:
        """Sleep before a caller's own retry number `retries + 1` (a re-read, a re-list)."""
        await self._sleep(self.delay(retries))

    def _hold(self, until: float) -> None:
        self._gate.hold_until(until)

    async def _attempt(self, method: str, path: str, params: Params, json: Any,
                       headers: Mapping[str, str] | None) -> httpx.Response:
        async with self._slots:
            await self._gate.enter()
            response: httpx.Response | None = None
            try:
                self.calls += 1
                response = await self._client.request(method, path, params=params, json=json,
                                                       headers=headers)
                # httpx ties a response and its stream in a reference cycle, so a body
                # already read waits for the cycle collector (7 MB at W5's peak): untie it.
                response.stream = httpx.ByteStream(response.content)
            finally:
                self._gate.leave(() if response is None
                                 else self.service.limits.budget(response.headers))
            return response


class SyncRequester(_Layer):
    """The blocking driver, for a client whose calls run one after another (no pacing
    gate: there are no other workers to hold back)."""

    def __init__(self, service: Service, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None], clock: Callable[[], float],
                 rng: random.Random, on_wait: OnWait = ignore_wait) -> None:
        super().__init__(service, clock=clock, rng=rng, on_wait=on_wait)
        self._sleep = sleep
        self._client = httpx.Client(**self._client_options(transport))

    def close(self) -> None:
        self._client.close()

    def send(self, method: str, path: str, *, params: Params = None, json: Any = None,
             idempotent: bool | None = None) -> httpx.Response:
        """As AsyncRequester.send."""
        attempts = _Attempts(self, method, path, idempotent)
        while True:
            try:
                self.calls += 1
                response = self._client.request(method, path, params=params, json=json)
            except httpx.TransportError as error:
                seconds = attempts.failed(error)
            else:
                seconds = attempts.answered(response)
                if seconds is None:
                    return response
            self._sleep(seconds)
