"""EventPublisher: bounded per-subscriber queues that drop the oldest instead of blocking."""

from __future__ import annotations

import asyncio

import pytest

from pbx_control.ami.events import EventPublisher

pytestmark = [pytest.mark.unit, pytest.mark.ami]


async def test_every_subscriber_gets_every_event_in_order() -> None:
    publisher = EventPublisher()
    first, second = publisher.subscribe(), publisher.subscribe()
    for n in range(3):
        publisher.publish({"type": "channel.updated", "n": n})
    assert [(await first.get())["n"] for _ in range(3)] == [0, 1, 2]
    assert [second.get_nowait()["n"] for _ in range(3)] == [0, 1, 2]
    assert first.dropped == second.dropped == 0


async def test_slow_subscriber_drops_oldest_and_counts_without_blocking_others() -> None:
    publisher = EventPublisher(maxsize=100)
    slow = publisher.subscribe(maxsize=2)
    fast = publisher.subscribe()
    for n in range(5):
        publisher.publish({"n": n})  # never blocks, never raises
    assert slow.dropped == 3
    assert [slow.get_nowait()["n"], slow.get_nowait()["n"]] == [3, 4]
    assert [fast.get_nowait()["n"] for _ in range(5)] == [0, 1, 2, 3, 4]
    assert fast.dropped == 0


async def test_unsubscribe_and_context_manager() -> None:
    publisher = EventPublisher()
    with publisher.subscribe() as subscription:
        assert publisher.subscriber_count == 1
    assert subscription.closed
    assert publisher.subscriber_count == 0
    publisher.publish({"n": 1})
    assert subscription.queue.empty()


async def test_async_iteration_waits_for_events() -> None:
    publisher = EventPublisher()
    subscription = publisher.subscribe()
    received: list[int] = []

    async def consume() -> None:
        async for event in subscription:
            received.append(event["n"])
            if len(received) == 2:
                return

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0)
    publisher.publish({"n": 1})
    publisher.publish({"n": 2})
    await asyncio.wait_for(consumer, 1)
    assert received == [1, 2]


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError):
        EventPublisher(maxsize=0)
