"""Sending one API call: headers, bounded concurrency, pacing, retries, error mapping.

Everything route-specific (which status means what for which endpoint) lives in
`reconciler.launchdarkly.client`; this module only knows HTTP.
"""

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from reconciler import USER_AGENT
from reconciler.errors import ApiError
from reconciler.launchdarkly.pacing import RETRY_JITTER_SECONDS, RateLimitGate, header_wait
from reconciler.settings import LaunchDarklySettings, check_base_uri

BACKOFF_BASE_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 8.0
TOKEN_HINT = "check the access token and its role"
MIN_SECRET_LENGTH = 8

Sleep = Callable[[float], Awaitable[None]]


class AmbiguousFailure(Exception):
    """A non-idempotent request failed in a way that may have applied it (a transport
    error or a 5xx): the caller re-reads instead of sending it again."""

    def __init__(self, error: ApiError) -> None:
        self.error = error
        super().__init__(str(error))


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
        if transport is None:
            check_base_uri(settings.base_uri)  # also when settings were built by hand
        self._settings = settings
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._gate = RateLimitGate(sleep, clock, rng)
        # TLS verification is httpx's default and is never turned off.
        self._client = httpx.AsyncClient(
            base_url=settings.base_uri.rstrip("/"),
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
        while True:
            try:
                response = await self._attempt(method, path, headers, params, json)
            except httpx.TransportError as error:
                detail = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
                failure = ApiError(method, path, None, self.redact(f"request failed: {detail}"))
                wait = None
            else:
                if not _retryable(response.status_code):
                    return response
                failure = self.error(method, path, response, beta=beta)
                wait = header_wait(response.headers, self._clock())
                if response.status_code == 429 and wait is not None:
                    self._gate.hold_until(self._clock() + wait)
            if not idempotent and failure.status != 429:
                raise AmbiguousFailure(failure)
            if retries >= self._settings.max_retries:
                raise gave_up(failure, retries)
            await self.backoff(retries, wait)
            retries += 1

    async def backoff(self, retries: int, wait: float | None = None) -> None:
        """Sleep before retry number `retries + 1`: what the server asked for plus a little
        jitter, else exponential backoff with jitter."""
        if wait is not None:
            await self._sleep(wait + self._rng.uniform(0, RETRY_JITTER_SECONDS))
            return
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**retries)
        await self._sleep(ceiling / 2 + self._rng.uniform(0, ceiling / 2))

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
            text = f"{text}; {TOKEN_HINT}"
        elif response.status_code == 403:
            text = f"{text}; {TOKEN_HINT}"
            if beta:
                text += (
                    f", and that this route accepts LD-API-Version: "
                    f"{self._settings.beta_api_version}"
                )
        return ApiError(method, path, response.status_code, self.redact(text), code)


def gave_up(failure: ApiError, retries: int) -> ApiError:
    return ApiError(
        failure.method,
        failure.route,
        failure.status,
        f"{failure.reason} (gave up after {retries} retries)",
        failure.code,
    )
