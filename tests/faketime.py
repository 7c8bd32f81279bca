"""A clock for retry and pacing tests: time moves only when someone sleeps, and every
sleep is recorded, so tests assert on waits without ever timing anything."""

import asyncio

START = 1_700_000_000.0


class FakeTime:
    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        deadline = self.now + seconds
        await asyncio.sleep(0)
        # Concurrent sleepers each wake at their own deadline; the clock never goes back.
        self.now = max(self.now, deadline)

    def sleep_blocking(self, seconds: float) -> None:
        """For a blocking client: the same record and the same jump of the clock."""
        self.sleeps.append(seconds)
        self.now += seconds

    def epoch_ms(self, seconds_from_now: float) -> str:
        return str(int((self.now + seconds_from_now) * 1000))
