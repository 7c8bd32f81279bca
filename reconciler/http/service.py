"""What one service tells the shared HTTP layer: where it is, how it authenticates, how it
reports rate limits and errors, and how long it may be retried and waited for. Everything
else (retries, pacing, redaction, error wording) is the layer's, the same for all."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from reconciler.http.pacing import Backoff, retry_after

REASON_LENGTH = 300  # an error body's message, cut to keep the error one readable line
MIN_SECRET_LENGTH = 8


class RateLimits(Protocol):
    """How a service says "slow down"."""

    def limited(self, response: httpx.Response) -> bool:
        """Whether the answer refused the request for a rate limit (it was not applied)."""
        ...

    def wait(self, response: httpx.Response, now: float, retries: int) -> float | None:
        """Seconds the answer asks to wait before retry `retries + 1`, uncapped; None when
        it says nothing."""
        ...

    def budget(self, headers: httpx.Headers) -> Iterable[tuple[int, float]]:
        """The budget an answer reports: (requests remaining, reset in epoch seconds) per
        limit; nothing when the service does not say."""
        ...


class RetryAfterLimits:
    """A 429 is a rate limit; `Retry-After` says how long to wait. No budget headers."""

    def limited(self, response: httpx.Response) -> bool:
        return response.status_code == 429

    def wait(self, response: httpx.Response, now: float, retries: int) -> float | None:
        return retry_after(response.headers.get("Retry-After"), now)

    def budget(self, headers: httpx.Headers) -> Iterable[tuple[int, float]]:
        return ()


def message_field(*names: str) -> Callable[[httpx.Response], tuple[str, str | None]]:
    """An error reader taking the first string among `names` in a JSON body (no code)."""

    def read(response: httpx.Response) -> tuple[str, str | None]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for name in names:
                if isinstance(body.get(name), str):
                    return body[name], None
        return response.reason_phrase or "HTTP error", None

    return read


def no_hint(response: httpx.Response, text: str) -> str:
    return text


@dataclass(frozen=True, kw_only=True)
class Service:
    base_url: str
    headers: Mapping[str, str]  # sent with every request: auth, Accept, versions
    secret: str = field(repr=False)  # never in any message
    limits: RateLimits
    # An error answer's message and code, from the service's error body.
    read_error: Callable[[httpx.Response], tuple[str, str | None]]
    # The message with what the user should check for this answer (a token, a permission).
    hint: Callable[[httpx.Response, str], str] = no_hint
    max_retries: int
    max_wait_seconds: float
    cap_setting: str = ""  # the setting that changes the cap, named when it is hit
    # How many waits longer than the cap are waited (capped) before failing: a client that
    # must not hold CI fails at once.
    waits_past_cap: int = 1
    backoff: Backoff = field(default_factory=Backoff)
    address_source: str = ""  # appended to a failure to connect: where the address came from
    timeout_seconds: float = 30.0
    concurrency: int = 1

    @property
    def where(self) -> str:
        """host[:port], for messages."""
        return httpx.URL(self.base_url).netloc.decode("ascii")

    def redact(self, text: str) -> str:
        """`text` without the secret, should a server or an exception ever echo it. A short
        secret (the sandbox's "sandbox") is no secret, and replacing it would garble text."""
        secret = self.secret
        return text.replace(secret, "***") if len(secret) >= MIN_SECRET_LENGTH else text
