"""Sending one API call: headers, bounded concurrency, pacing, retries, error mapping.

Everything route-specific (which status means what for which endpoint) lives in
`reconciler.launchdarkly.client`; this module only knows HTTP.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler import USER_AGENT
from reconciler.errors import ApiError, Unreachable
from reconciler.launchdarkly.faults import CONNECT_RETRIES, connect_failure, source_hint
from reconciler.launchdarkly.pacing import (
    BACKOFF_BASE_SECONDS,
    RATE_LIMITED_BACKOFF_BASE_SECONDS,
    RETRY_JITTER_SECONDS,
    Announcer,
    RateLimitGate,
    backoff_seconds,
    header_wait,
)
from reconciler.settings import MAX_WAIT_VARIABLE, LaunchDarklySettings, launchdarkly_base_uri

TOKEN_HINT = "check the access token and its role"
MIN_SECRET_LENGTH = 8

Sleep = Callable[[float], Awaitable[None]]


class AmbiguousFailure(Exception):
    """A non-idempotent request failed in a way that may have applied it (a transport
    error or a 5xx): the caller re-reads instead of sending it again."""

    def __init__(self, error: ApiError) -> None:
        self.error = error
        super().__init__(str(error))


@dataclass(frozen=True)
class _Failure:
    """A failed attempt: its error, how many retries its kind gets, whether the request
    may have been applied, and the wait the server asked for (uncapped)."""

    error: ApiError
    retries: int
    may_have_landed: bool
    wait: float | None = None
    backoff_base: float = BACKOFF_BASE_SECONDS


def _retryable(status: int) -> bool:
    return status == 429 or status >= 500


class Requester:
    """One httpx.AsyncClient (one connection pool) shared by every call."""

    def __init__(
        self,
        settings: LaunchDarklySettings,
        *,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Sleep,
        rng: random.Random,
        clock: Callable[[], float],
    ) -> None:
        base_uri = settings.base_uri.rstrip("/")
        if transport is None:  # also checked when settings were built by hand
            base_uri = launchdarkly_base_uri(base_uri, settings.base_uri_source)
        self._settings = settings
        self._where = httpx.URL(base_uri).netloc.decode("ascii")  # host[:port], for messages
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._announce = Announcer(clock)
        self._gate = RateLimitGate(sleep, clock, rng, cap=settings.max_wait_seconds,
                                   announce=self._announce)
        # TLS verification is httpx's default and is never turned off.
        self._client = httpx.AsyncClient(
            base_url=base_uri,
            transport=transport,
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(
                max_connections=settings.concurrency,
                max_keepalive_connections=settings.concurrency,
            ),
            headers={
                "Authorization": settings.token,  # no "Bearer": LaunchDarkly wants the bare token
                "User-Agent": USER_AGENT,
                "Accept": "application/json",
            },
        )
        self.calls = 0

    async def aclose(self) -> None:
        await self._client.aclose()

    def redact(self, text: str) -> str:
        """`text` without the token, should a server or an exception ever echo it. A short
        token (the sandbox's "sandbox") is no secret, and replacing it would garble text."""
        token = self._settings.token
        return text.replace(token, "***") if len(token) >= MIN_SECRET_LENGTH else text

    async def send(
        self,
        method: str,
        path: str,
        *,
        beta: bool,
        params: Mapping[str, str | int] | None = None,
        json: Any = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """The first answer that is neither a 429 nor a 5xx, after retries.

        Raises ApiError when retries run out, and AmbiguousFailure instead of retrying a
        non-idempotent request that may have landed."""
        headers = {
            "LD-API-Version": self._settings.beta_api_version if beta
            else self._settings.api_version
        }
        retries = 0
        waited_past_cap = False
        while True:
            try:
                response = await self._attempt(method, path, headers, params, json)
            except httpx.TransportError as error:
                failure = self._transport_failure(method, path, error)
            else:
                if not _retryable(response.status_code):
                    return response
                failure = self._answer_failure(method, path, response, beta=beta)
            if failure.may_have_landed and not idempotent:
                raise AmbiguousFailure(failure.error)
            if failure.wait is not None and failure.wait > self._settings.max_wait_seconds:
                if waited_past_cap:  # the cap was waited once already: no hour-long hang
                    raise self._past_cap(failure, retries)
                waited_past_cap = True
            if retries >= failure.retries:
                raise gave_up(failure.error, retries) if retries else failure.error
            await self.backoff(retries, failure.wait, base=failure.backoff_base,
                               why=str(failure.error))
            retries += 1

    def _answer_failure(self, method: str, path: str, response: httpx.Response, *,
                        beta: bool) -> _Failure:
        error = self.error(method, path, response, beta=beta)
        wait = header_wait(response.headers, self._clock())
        if response.status_code != 429:  # a 5xx: the change may have been applied
            return _Failure(error, self._settings.max_retries, True, wait)
        if wait is not None:  # the other workers wait too
            self._gate.hold_until(self._clock() + min(wait, self._settings.max_wait_seconds))
        return _Failure(error, self._settings.max_retries, False, wait,
                        RATE_LIMITED_BACKOFF_BASE_SECONDS)

    def _transport_failure(self, method: str, path: str,
                           error: httpx.TransportError) -> _Failure:
        """A failure to connect names the host and its setting, and gets a short budget
        (none for TLS); other transport errors may have reached the server."""
        connect = connect_failure(error, self._where)
        if connect is None:
            detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            return _Failure(ApiError(method, path, None, self.redact(f"request failed: {detail}")),
                            self._settings.max_retries, True)
        reason = connect.reason + source_hint(self._settings.base_uri_source)
        budget = min(CONNECT_RETRIES, self._settings.max_retries) if connect.retryable else 0
        return _Failure(Unreachable(method, path, None, self.redact(reason)), budget, False)

    def _past_cap(self, failure: _Failure, retries: int) -> ApiError:
        error, cap = failure.error, self._settings.max_wait_seconds
        return gave_up(ApiError(
            error.method, error.route, error.status,
            f"{error.reason}; the server asks to wait {failure.wait:.0f}s, more than the "
            f"{cap:.0f}s cap ({MAX_WAIT_VARIABLE}): try again later", error.code,
        ), retries)

    async def backoff(self, retries: int, wait: float | None = None, *,
                      base: float = BACKOFF_BASE_SECONDS, why: str = "") -> None:
        """Sleep before retry number `retries + 1`: exponential backoff with jitter, or
        longer when the server asked for longer (`wait`), never more than the cap."""
        seconds = backoff_seconds(retries, base, self._rng)
        if wait is not None:
            seconds = max(seconds, wait + self._rng.uniform(0, RETRY_JITTER_SECONDS))
        cap = self._settings.max_wait_seconds
        if seconds > cap:
            why += f"; asked to wait {seconds:.0f}s, capped at {cap:.0f}s ({MAX_WAIT_VARIABLE})"
            seconds = cap
        self._announce(seconds, f"before retrying {why}" if why else "before retrying")
        await self._sleep(seconds)

    async def _attempt(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None,
        json: Any,
    ) -> httpx.Response:
        async with self._slots:
            await self._gate.enter()
            response: httpx.Response | None = None
            try:
                self.calls += 1
                response = await self._client.request(
                    method, path, headers=headers, params=params, json=json
                )
            finally:
                self._gate.leave(response.headers if response is not None else None)
            return response

    def error(
        self, method: str, path: str, response: httpx.Response, *, beta: bool, reason: str = ""
    ) -> ApiError:
        """The ApiError for an answer: LaunchDarkly's `message` (and `code`) when the body
        is its error shape, else the HTTP reason phrase; `reason` overrides the text."""
        code: str | None = None
        message = response.reason_phrase or "HTTP error"
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            message = body["message"]
            code = body["code"] if isinstance(body.get("code"), str) else None
            if code:
                message = f"{message} ({code})"
        text = reason or message
        if response.status_code == 401:
            text = (f"{text}: LaunchDarkly refused the access token from "
                    f"{self._settings.token_source}; {TOKEN_HINT}")
        elif response.status_code == 403:
            text = f"{text}; {TOKEN_HINT}"
            if beta:
                text += (
                    f", and that this route accepts LD-API-Version: "
                    f"{self._settings.beta_api_version}"
                )
        return ApiError(method, path, response.status_code, self.redact(text), code)


def gave_up(failure: ApiError, retries: int) -> ApiError:
    return type(failure)(
        failure.method,
        failure.route,
        failure.status,
        f"{failure.reason} (gave up after {retries} retries)",
        failure.code,
    )
