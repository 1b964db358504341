"""Presence and group changes as live events: which notifications and channel changes count, and
that a burst of them is one event per organization."""

from __future__ import annotations

import asyncio

import pytest

from pbx_control.ami.events import EventPublisher
from pbx_control.events.live import CallPresence, LiveNotifier, parse_notification

pytestmark = [pytest.mark.unit, pytest.mark.events]


@pytest.mark.parametrize(
    ("payload", "parsed"),
    [
        ("presence:12", ("presence", 12)),
        ("groups:3", ("groups", 3)),
        ("presence:", None),
        ("presence:-1", None),
        ("calls:3", None),
        ("", None),
    ],
)
def test_notifications(payload: str, parsed: tuple[str, int] | None) -> None:
    assert parse_notification(payload) == parsed


def _updated(uid: str, state: str, org: str = "acme") -> dict[str, object]:
    return {"type": "channel.updated", "organization": org, "channel": {"uniqueid": uid, "state": state}}


def test_only_a_new_channel_another_state_or_a_removed_one_changes_presence() -> None:
    calls = CallPresence()
    assert calls.changed(_updated("1.1", "Ringing")) == "acme"  # new
    assert calls.changed(_updated("1.1", "Ringing")) is None  # caller id update, same state
    assert calls.changed(_updated("1.1", "Up")) == "acme"  # answered
    assert calls.changed({"type": "call.held", "organization": "acme"}) is None
    assert calls.changed({"type": "channel.removed", "uniqueid": "1.1", "organization": "acme"}) == "acme"
    assert calls.changed({"type": "channel.removed", "uniqueid": "1.1", "organization": "acme"}) is None
    assert calls.changed(_updated("2.1", "Up", org="")) is None  # no organization: nobody's presence


def test_a_burst_is_one_event_per_organization_and_kind() -> None:
    async def run() -> list[dict[str, object]]:
        publisher = EventPublisher()
        notifier = LiveNotifier(publisher, "postgresql://unused", coalesce_s=0.01)
        with publisher.subscribe() as seen:
            for _ in range(5):
                notifier.note("presence", 7)
            notifier.note("groups", 7)
            notifier.note("presence", "acme")
            await asyncio.sleep(0.05)
            return [seen.get_nowait() for _ in range(seen.queue.qsize())]

    events = asyncio.run(run())
    assert sorted(events, key=str) == sorted(
        [
            {"type": "presence.changed", "organization_id": 7},
            {"type": "groups.changed", "organization_id": 7},
            {"type": "presence.changed", "organization": "acme"},
        ],
        key=str,
    )
