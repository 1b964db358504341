"""The pace of api_latency's clients: each of them acts once every `interval_s` (50 operators or
apps, each at the pace of the busiest one, one operation a second), their turns spread evenly
over the interval so they do not all ask at the same instant.

A client's turns are fixed in advance (start + its offset + k * interval): one whose answer came
later than its next turn acts again at once, so a slow service meets the same demand and its
latency shows (no coordinated omission: the load never waits for the service). An interval of 0
is the old load, every client back to back.
"""

from __future__ import annotations

import asyncio
import time


class Pace:
    def __init__(self, clients: int, interval_s: float) -> None:
        self.clients = max(1, clients)
        self.interval_s = max(0.0, interval_s)
        self.started = time.perf_counter()

    def turns(self, client: int) -> Turns:
        offset = self.interval_s * (client % self.clients) / self.clients
        return Turns(self.started + offset, self.interval_s)

    def describe(self) -> dict[str, float | int]:
        return {"clients": self.clients, "interval_s": self.interval_s}


class Turns:
    """One client's turns."""

    def __init__(self, first: float, interval_s: float) -> None:
        self._first = first
        self._interval_s = interval_s
        self.taken = 0

    def due(self) -> float:
        return self._first + self.taken * self._interval_s

    async def next(self) -> None:
        """Wait for this client's next turn (not at all when it is late or back to back)."""
        if self._interval_s > 0:
            delay = self.due() - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        self.taken += 1
