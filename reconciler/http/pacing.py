"""Waits: how long a retry backs off, a gate that paces new requests, and the
announcement of long waits.

Every wait is capped (the service's `max_wait_seconds`): a reset an hour away is a skewed
clock or a proxy's doing, and a run must not hang on it. A retry always backs off
exponentially: headers can lengthen a wait, never shorten it (a reset in the past or
`Retry-After: 0` would otherwise spend every retry in a second).
"""

import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from reconciler.settings import ANNOUNCE_AFTER_SECONDS

# Spread the workers that wake at the same reset (terraform-provider-launchdarkly#35).
RETRY_JITTER_SECONDS = 0.25
PACING_JITTER_SECONDS = 0.05


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: retry n waits min(base * 2**n, ceiling), or, with jitter,
    between half and all of it (jitter spreads concurrent workers; a client that sends one
    request at a time needs none)."""

    base: float = 0.25  # 5xx and transport errors
    rate_limited_base: float = 1.0  # a refused request: windows are seconds long, not less
    ceiling: float = 8.0
    jitter: bool = True

    def seconds(self, retries: int, rng: random.Random, *, rate_limited: bool = False) -> float:
        """The wait before retry `retries + 1`: the floor no header can lower."""
        base = self.rate_limited_base if rate_limited else self.base
        ceiling = min(self.ceiling, base * 2**retries)
        return ceiling / 2 + rng.uniform(0, ceiling / 2) if self.jitter else ceiling

    def header_jitter(self, rng: random.Random) -> float:
        """Added to a wait the server asked for."""
        return rng.uniform(0, RETRY_JITTER_SECONDS) if self.jitter else 0.0


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds a `Retry-After` header asks to wait (seconds or an HTTP date)."""
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


@dataclass(frozen=True)
class Wait:
    """A wait long enough to tell the user about (the CLI shows it on stderr)."""

    seconds: float
    reason: str

    def __str__(self) -> str:
        return f"waiting {self.seconds:.0f}s: {self.reason}"


OnWait = Callable[[Wait], None]


def ignore_wait(wait: Wait) -> None:
    """The default sink: silence. Library code never prints; the CLI passes its own sink,
    which shows the wait on stderr."""


class Announcer:
    """Passes on a wait longer than ANNOUNCE_AFTER_SECONDS, once for all the workers that
    wait for the same moment (eight workers behind one rate limit make one line, not
    eight)."""

    def __init__(self, clock: Callable[[], float], sink: OnWait = ignore_wait
                 ) -> None:
        self._clock = clock
        self._sink = sink
        self._until = 0.0  # the end of the latest announced wait

    def __call__(self, seconds: float, reason: str) -> None:
        end = self._clock() + seconds
        if seconds > ANNOUNCE_AFTER_SECONDS and end > self._until + ANNOUNCE_AFTER_SECONDS:
            self._until = end
            self._sink(Wait(seconds, reason))


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

    def leave(self, budgets: Iterable[tuple[int, float]]) -> None:
        """Count a request out of flight and learn the budget its response reported, as
        (remaining, reset in epoch seconds) per limit."""
        self.in_flight -= 1
        for remaining, reset in budgets:
            self.limit(remaining - self.in_flight, reset)

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
