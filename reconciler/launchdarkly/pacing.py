"""Rate limits: how long a refused request waits, and a gate that paces new requests.

LaunchDarkly reports its limits in headers (facts 2.6): `X-Ratelimit-{Global,Route,
Auth-Token}-Remaining`, `X-Ratelimit-Reset` and `X-Ratelimit-Auth-Token-Reset` (epoch ms),
and `Retry-After` (seconds) for the IP limit. Every header is optional.
"""

import random
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import httpx

# A reset far in the future is more likely clock skew than a real window (LaunchDarkly's
# windows are ten seconds): never wait longer than this at once.
MAX_WAIT_SECONDS = 60.0
# Spread the workers that wake at the same reset (terraform-provider-launchdarkly#35).
RETRY_JITTER_SECONDS = 0.25
PACING_JITTER_SECONDS = 0.05

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


def _retry_after(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


def header_wait(headers: httpx.Headers, now: float) -> float | None:
    """Seconds a refused request's headers ask to wait (a reset in the past means 0);
    None when they say nothing. With several limits, the latest reset wins."""
    waits = [
        max(0.0, reset - now)
        for reset in (_epoch_seconds(headers.get(RESET)), _epoch_seconds(headers.get(TOKEN_RESET)))
        if reset is not None
    ]
    retry_after = _retry_after(headers.get("Retry-After"), now)
    if retry_after is not None:
        waits.append(retry_after)
    return min(max(waits), MAX_WAIT_SECONDS) if waits else None


class RateLimitGate:
    """Holds back new requests, across all workers, when the limit's budget is spent.

    State: until `until` (epoch seconds), at most `allowance` more requests may start.
    Each response updates it with `remaining - (other requests in flight)`, because those
    may still be counted against the same window; that keeps a run under the limit
    instead of bouncing off 429s.
    """

    def __init__(
        self,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        rng: random.Random,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._allowance = 0
        self._until = 0.0  # in the past: no known budget, requests go
        self.in_flight = 0

    async def enter(self) -> None:
        """Wait until a new request may start, then count it in flight."""
        while self._until > self._clock():
            if self._allowance > 0:
                self._allowance -= 1
                break
            until = self._until
            await self._sleep(
                until - self._clock() + self._rng.uniform(0, PACING_JITTER_SECONDS)
            )
            if self._until == until:
                self._until = 0.0  # that window is over, whatever the clock says
                break
        self.in_flight += 1

    def leave(self, headers: httpx.Headers | None) -> None:
        """Count a request out of flight and learn the budget from its response."""
        self.in_flight -= 1
        if headers is None:
            return
        for remaining_header, reset_header in LIMITS:
            remaining = headers.get(remaining_header)
            reset = _epoch_seconds(headers.get(reset_header) or headers.get(RESET))
            if remaining is not None and remaining.isdigit() and reset is not None:
                self.limit(int(remaining) - self.in_flight, reset)

    def hold_until(self, when: float) -> None:
        """No new request starts before `when` (epoch seconds)."""
        self.limit(0, when)

    def limit(self, allowance: int, until: float) -> None:
        if until <= self._clock():
            return  # a past window: its budget no longer applies
        if self._until <= self._clock() or allowance < self._allowance:
            self._allowance, self._until = allowance, until
        elif allowance == self._allowance:
            self._until = max(self._until, until)
