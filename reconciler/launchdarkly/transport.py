"""LaunchDarkly on the shared HTTP layer: its address, bare-token auth and
`LD-API-Version`, its rate-limit headers and its error body.

LaunchDarkly reports its limits in headers (facts 2.6): `X-Ratelimit-{Global,Route,
Auth-Token}-Remaining`, `X-Ratelimit-Reset` and `X-Ratelimit-Auth-Token-Reset` (epoch ms),
and `Retry-After` (seconds) for the IP limit. Every header is optional. Its windows are ten
seconds, so the cap (`max_wait_seconds`, RECONCILER_MAX_WAIT) is waited once before a
run gives up on a longer wait.

Everything route-specific (which status means what for which endpoint) lives in
`reconciler.launchdarkly.client`.
"""

import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import httpx

from reconciler.errors import ApiError
from reconciler.http import AsyncRequester, Service
from reconciler.http.pacing import Wait, ignore_wait, retry_after
from reconciler.settings import (
    BASE_URI_FLAG,
    BASE_URI_VARIABLE,
    DEFAULT_SOURCE,
    MAX_WAIT_VARIABLE,
    LaunchDarklySettings,
    launchdarkly_base_uri,
)

TOKEN_HINT = "check the access token and its role"

RESET = "X-Ratelimit-Reset"
TOKEN_RESET = "X-Ratelimit-Auth-Token-Reset"
# (remaining header, reset header) per kind of limit.
LIMITS = (
    ("X-Ratelimit-Global-Remaining", RESET),
    ("X-Ratelimit-Route-Remaining", RESET),
    ("X-Ratelimit-Auth-Token-Remaining", TOKEN_RESET),
)


def _epoch_seconds(value: str | None) -> float | None:
    try:
        return int(value) / 1000.0 if value is not None else None
    except ValueError:
        return None


class LaunchDarklyLimits:
    """A 429 is a rate limit; the latest of the resets and `Retry-After` is the wait."""

    def limited(self, response: httpx.Response) -> bool:
        return response.status_code == 429

    def wait(self, response: httpx.Response, now: float, retries: int) -> float | None:
        headers = response.headers
        waits = [max(0.0, reset - now) for reset in (_epoch_seconds(headers.get(RESET)),
                                                     _epoch_seconds(headers.get(TOKEN_RESET)))
                 if reset is not None]
        asked = retry_after(headers.get("Retry-After"), now)
        if asked is not None:
            waits.append(asked)
        return max(waits) if waits else None

    def budget(self, headers: httpx.Headers) -> Iterable[tuple[int, float]]:
        for remaining_header, reset_header in LIMITS:
            remaining = headers.get(remaining_header)
            reset = _epoch_seconds(headers.get(reset_header) or headers.get(RESET))
            if remaining is not None and remaining.isdigit() and reset is not None:
                yield int(remaining), reset


def source_hint(source: str) -> str:
    """`; ` and where the address came from, for the end of a message ("" if unknown)."""
    if source == DEFAULT_SOURCE:
        return (f"; this is the default address; set {BASE_URI_FLAG} or {BASE_URI_VARIABLE} "
                "to use another")
    return f"; the address comes from {source}" if source else ""


def _read_error(response: httpx.Response) -> tuple[str, str | None]:
    """LaunchDarkly's `message` (and `code`) when the body is its error shape."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body["code"] if isinstance(body.get("code"), str) else None
        return (f"{body['message']} ({code})" if code else body["message"]), code
    return response.reason_phrase or "HTTP error", None


class Requester:
    """LaunchDarkly's requests: `beta` picks the route's `LD-API-Version`."""

    def __init__(
        self,
        settings: LaunchDarklySettings,
        *,
        transport: httpx.AsyncBaseTransport | None,
        sleep: Callable[[float], Awaitable[None]],
        rng: random.Random,
        clock: Callable[[], float],
        on_wait: Callable[[Wait], None] = ignore_wait,
    ) -> None:
        base_uri = settings.base_uri.rstrip("/")
        if transport is None:  # also checked when settings were built by hand
            base_uri = launchdarkly_base_uri(base_uri, settings.base_uri_source)
        self._settings = settings
        service = Service(
            base_url=base_uri,
            # No "Bearer": LaunchDarkly wants the bare token.
            headers={"Authorization": settings.token, "Accept": "application/json"},
            secret=settings.token,
            limits=LaunchDarklyLimits(),
            read_error=_read_error,
            max_retries=settings.max_retries,
            max_wait_seconds=settings.max_wait_seconds,
            cap_setting=MAX_WAIT_VARIABLE,
            address_source=source_hint(settings.base_uri_source),
            timeout_seconds=settings.timeout_seconds,
            concurrency=settings.concurrency,
        )
        self._http = AsyncRequester(service, transport=transport, sleep=sleep, clock=clock,
                                    rng=rng, on_wait=on_wait)

    @property
    def calls(self) -> int:
        return self._http.calls

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, method: str, path: str, *, beta: bool,
                   params: Mapping[str, str | int] | None = None, json: Any = None,
                   idempotent: bool = True) -> httpx.Response:
        """See AsyncRequester.send. Every request is taken as safe to repeat unless the
        caller says otherwise (a create: `idempotent=False`)."""
        version = self._settings.beta_api_version if beta else self._settings.api_version
        return await self._http.send(method, path, params=params, json=json,
                                     headers={"LD-API-Version": version},
                                     idempotent=idempotent)

    async def backoff(self, retries: int) -> None:
        await self._http.backoff(retries)

    def error(self, method: str, path: str, response: httpx.Response, *, beta: bool,
              reason: str = "") -> ApiError:
        """The ApiError for an answer, with what to check for a refused token; `reason`
        overrides LaunchDarkly's message."""
        error = self._http.error(method, path, response, reason=reason)
        return ApiError(method, error.route, error.status,
                        self._hint(response.status_code, error.reason, beta=beta), error.code)

    def _hint(self, status: int, text: str, *, beta: bool) -> str:
        if status == 401:
            return (f"{text}: LaunchDarkly refused the access token from "
                    f"{self._settings.token_source}; {TOKEN_HINT}")
        if status == 403:
            text = f"{text}; {TOKEN_HINT}"
            if beta:
                text += (f", and that this route accepts LD-API-Version: "
                         f"{self._settings.beta_api_version}")
        return text
