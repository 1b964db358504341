"""A tiny in-process publisher of live-model changes (later fanned out to WebSocket clients).

Each subscriber gets its own bounded asyncio.Queue. The publisher never waits: when a subscriber's
queue is full its OLDEST event is dropped to make room and its `dropped` counter goes up, so one slow
consumer neither blocks the AMI reader nor makes the others late. A consumer that sees `dropped` grow
should resynchronise from the model's current state instead of trusting the increments.

Published events are plain dicts shared by all subscribers: treat them as read-only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

Event = dict[str, Any]


class Subscription:
    """One subscriber's view: `await get()` (or `async for`), `dropped`, `close()`.

    Also a context manager that unsubscribes on exit.
    """

    def __init__(self, publisher: EventPublisher, maxsize: int) -> None:
        self._publisher = publisher
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def offer(self, event: Event) -> None:
        """Enqueue without waiting; drop the oldest queued event when full."""
        if self.queue.full():
            try:
                self.queue.get_nowait()
            except asyncio.QueueEmpty:  # pragma: no cover - cannot happen when full
                pass
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()

    def get_nowait(self) -> Event:
        return self.queue.get_nowait()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._publisher.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while not self.closed:
            yield await self.queue.get()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventPublisher:
    """Publish change dicts to every current subscriber without ever blocking."""

    def __init__(self, maxsize: int = 1000) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._subscribers: list[Subscription] = []

    def subscribe(self, maxsize: int | None = None) -> Subscription:
        subscription = Subscription(self, maxsize or self.maxsize)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscription.closed = True
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        for subscription in list(self._subscribers):
            subscription.offer(event)
