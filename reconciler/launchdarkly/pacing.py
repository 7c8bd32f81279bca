"""Rate limits and waits: how long a refused request waits, a gate that paces new
requests, and the announcement of long waits.

LaunchDarkly reports its limits in headers (facts 2.6): `X-Ratelimit-{Global,Route,
Auth-Token}-Remaining`, `X-Ratelimit-Reset` and `X-Ratelimit-Auth-Token-Reset` (epoch ms),
and `Retry-After` (seconds) for the IP limit. Every header is optional.

Every wait is capped (`LaunchDarklySettings.max_wait_seconds`): LaunchDarkly's windows are
ten seconds, so a reset an hour away is a skewed clock or a proxy's doing, and a run must
not hang on it. A retry always backs off exponentially with jitter: headers can lengthen
a wait, never shorten it (a reset in the past or `Retry-After: 0` would otherwise spend
every retry in a second).
"""

import logging
import random
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime

import httpx

from reconciler.settings import ANNOUNCE_AFTER_SECONDS

# Spread the workers that wake at the same reset (terraform-provider-launchdarkly#35).
RETRY_JITTER_SECONDS = 0.25
PACING_JITTER_SECONDS = 0.05
# Exponential backoff: retry n waits between half and all of min(base * 2**n, cap).
BACKOFF_BASE_SECONDS = 0.25  # 5xx and transport errors
RATE_LIMITED_BACKOFF_BASE_SECONDS = 1.0  # 429: the window is seconds long, not less
BACKOFF_CAP_SECONDS = 8.0

RESET = "X-Ratelimit-Reset"
TOKEN_RESET = "X-Ratelimit-Auth-Token-Reset"
# (remaining header, reset header) per kind of limit.
LIMITS = (
    ("X-Ratelimit-Global-Remaining", RESET),
    ("X-Ratelimit-Route-Remaining", RESET),
    ("X-Ratelimit-Auth-Token-Remaining", TOKEN_RESET),
)

log = logging.getLogger(__name__)


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
    except (TypeError, ValueError, OverflowError):
        return None


def header_wait(headers: httpx.Headers, now: float) -> float | None:
    """Seconds a refused request's headers ask to wait (a reset in the past means 0), not
    capped; None when they say nothing. With several limits, the latest reset wins."""
    waits = [
        max(0.0, reset - now)
        for reset in (_epoch_seconds(headers.get(RESET)), _epoch_seconds(headers.get(TOKEN_RESET)))
        if reset is not None
    ]
    retry_after = _retry_after(headers.get("Retry-After"), now)
    if retry_after is not None:
        waits.append(retry_after)
    return max(waits) if waits else None


def backoff_seconds(retries: int, base: float, rng: random.Random) -> float:
    """Exponential backoff with jitter before retry `retries + 1`: at least half the
    ceiling, which is the floor no header can lower."""
    ceiling = min(BACKOFF_CAP_SECONDS, base * 2**retries)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


class Announcer:
    """Logs a wait longer than ANNOUNCE_AFTER_SECONDS, once for all the workers that wait
    for the same moment (eight workers behind one rate limit make one line, not eight)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._until = 0.0  # the end of the latest announced wait

    def __call__(self, seconds: float, reason: str) -> None:
        end = self._clock() + seconds
        if seconds > ANNOUNCE_AFTER_SECONDS and end > self._until + ANNOUNCE_AFTER_SECONDS:
            self._until = end
            log.info("waiting %.0fs: %s", seconds, reason)


class RateLimitGate:
    """Holds back new requests, across all workers, when the limit's budget is spent.

    State: until `until` (epoch seconds), at most `allowance` more requests may start.
    Each response updates it with `remaining - (other requests in flight)`, because those
    may still be counted against the same window; that keeps a run under the limit
    instead of bouncing off 429s. A window that ends further away than the cap holds new
    requests for the cap once; after that, such windows are ignored (a 429 still backs
    off), so that a run goes on rather than waiting the cap before every request.
    """

    def __init__(
        self,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        rng: random.Random,
        *,
        cap: float,
        announce: Announcer,
    ) -> None:
        self._sleep = sleep
        self._clock = clock
        self._rng = rng
        self._cap = cap
        self._announce = announce
        self._allowance = 0
        self._until = 0.0  # in the past: no known budget, requests go
        self._far_window_held = False
        self.in_flight = 0

    async def enter(self) -> None:
        """Wait until a new request may start, then count it in flight."""
        while self._until > self._clock():
            if self._allowance > 0:
                self._allowance -= 1
                break
            until = self._until
            wait = min(until - self._clock(), self._cap)
            self._announce(wait, "the rate limit's budget is spent until its window resets")
            await self._sleep(wait + self._rng.uniform(0, PACING_JITTER_SECONDS))
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
        now = self._clock()
        if until <= now:
            return  # a past window: its budget no longer applies
        if until - now > self._cap:
            if self._far_window_held:
                return
            self._far_window_held = True
            until = now + self._cap
        if self._until <= now or allowance < self._allowance:
            self._allowance, self._until = allowance, until
        elif allowance == self._allowance:
            self._until = max(self._until, until)
