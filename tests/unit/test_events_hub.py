"""EventHub: per-organization fan-out of the EventPublisher, framed once, bounded per client."""

from __future__ import annotations

import asyncio
import json

import pytest

from pbx_control.ami.events import EventPublisher
from pbx_control.events.frames import frame_texts, text_frame
from pbx_control.events.hub import EventHub, hub_for

pytestmark = [pytest.mark.unit, pytest.mark.events]


class Sink:
    """Stands for a client's transport: keeps the frames, reports a settable unsent size."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.unsent = 0
        self.closing = False

    def write(self, data: bytes) -> None:
        self.frames.append(data)

    def get_write_buffer_size(self) -> int:
        return self.unsent

    def is_closing(self) -> bool:
        return self.closing


def join(hub: EventHub, org: str, org_id: int | None = None, **kw: object) -> Sink:
    sink = Sink()
    hub.join(org, org_id, sink, **kw)  # type: ignore[arg-type]
    return sink


def _texts(sink: Sink) -> list[dict]:
    out = [json.loads(text) for f in sink.frames for text in frame_texts(f)]
    sink.frames.clear()
    return out


async def _settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_frames_round_trip_at_every_length_boundary(size: int) -> None:
    text = "é" * (size // 2) + "x" * (size % 2)
    assert frame_texts(text_frame(text)) == [text]
    assert frame_texts(text_frame(text) * 2) == [text, text]


async def test_events_reach_only_their_organization() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    alpha, alpha2, beta = join(hub, "alpha", 1), join(hub, "alpha", 1), join(hub, "beta", 2)
    publisher.publish({"type": "channel.updated", "organization": "alpha", "n": 1})
    publisher.publish({"type": "channel.updated", "organization": "beta", "n": 2})
    publisher.publish({"type": "channel.updated", "organization": None, "n": 3})  # nobody's
    publisher.publish({"type": "channel.removed", "n": 4})  # names no organization: nobody's
    publisher.publish({"type": "group.changed", "organization_id": 2, "n": 5})
    publisher.publish({"type": "group.changed", "organization_id": 99, "n": 6})
    await _settle()
    assert [e["n"] for e in _texts(alpha)] == [1]
    assert [e["n"] for e in _texts(alpha2)] == [1]
    assert [e["n"] for e in _texts(beta)] == [2, 5]


async def test_model_reset_carries_only_the_organizations_channels() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    alpha, beta = join(hub, "alpha"), join(hub, "beta")
    publisher.publish(
        {
            "type": "model.reset",
            "channels": [
                {"uniqueid": "1", "organization": "alpha"},
                {"uniqueid": "2", "organization": "beta"},
                {"uniqueid": "3", "organization": None},
            ],
        }
    )
    await _settle()
    assert _texts(alpha) == [
        {"type": "model.reset", "channels": [{"uniqueid": "1", "organization": "alpha"}]}
    ]
    assert _texts(beta) == [{"type": "model.reset", "channels": [{"uniqueid": "2", "organization": "beta"}]}]


async def test_an_event_is_serialised_once_for_all_clients() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    sinks = [join(hub, "alpha") for _ in range(50)]
    hub.dispatch({"type": "x", "organization": "alpha"})
    frames = {id(frame) for sink in sinks for frame in sink.frames}
    assert len(frames) == 1  # the very same bytes object for every client


async def test_a_full_feed_marks_the_client_too_slow_without_touching_others() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher, max_buffer=1000)
    calls: list[str] = []
    slow = join(hub, "alpha", on_overflow=lambda: calls.append("slow"))
    fast = join(hub, "alpha")
    hub.dispatch({"organization": "alpha", "n": 0})
    slow.unsent = 1001  # its kernel and transport buffers are full: it stopped reading
    hub.dispatch({"organization": "alpha", "n": 1})
    hub.dispatch({"organization": "alpha", "n": 2})
    assert calls == ["slow"]  # called once
    assert [e["n"] for e in _texts(slow)] == [0]
    assert [e["n"] for e in _texts(fast)] == [0, 1, 2]


async def test_a_closing_connection_is_not_written_to() -> None:
    hub = EventHub(EventPublisher())
    sink = join(hub, "alpha")
    sink.closing = True
    hub.dispatch({"organization": "alpha", "n": 0})
    assert sink.frames == []


async def test_hub_subscribes_while_it_has_clients() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    assert publisher.subscriber_count == 0
    first = hub.join("alpha", None, Sink())
    second = hub.join("beta", None, Sink())
    assert publisher.subscriber_count == 1 and hub.client_count == 2
    hub.leave(first)
    assert publisher.subscriber_count == 1
    hub.leave(second)
    hub.leave(second)  # twice is harmless
    assert publisher.subscriber_count == 0 and hub.client_count == 0
    again = join(hub, "alpha")
    publisher.publish({"organization": "alpha", "n": 1})
    await _settle()
    assert [e["n"] for e in _texts(again)] == [1]


async def test_lost_events_are_announced_to_every_client() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher, hub_queue=2)
    alpha, beta = join(hub, "alpha"), join(hub, "beta")
    for n in range(5):  # the hub's task has not run yet: its own queue overflows
        publisher.publish({"organization": "alpha", "n": n})
    await _settle()
    assert hub.lost_total == 3
    assert _texts(beta) == [{"type": "events.lost", "count": 3}]
    assert _texts(alpha) == [
        {"type": "events.lost", "count": 3},
        {"organization": "alpha", "n": 3},
        {"organization": "alpha", "n": 4},
    ]


async def test_a_bad_event_does_not_stop_the_hub() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    feed = join(hub, "alpha")
    publisher.publish({"organization": "alpha", "bad": {1, 2}.__class__})  # not JSON: str() fallback
    publisher.publish({"type": "model.reset", "channels": "garbage"})
    publisher.publish({"organization": "alpha", "n": 2})
    await _settle()
    assert _texts(feed)[-1] == {"organization": "alpha", "n": 2}


def test_one_hub_per_publisher() -> None:
    publisher = EventPublisher()
    assert hub_for(publisher) is hub_for(publisher)
    assert hub_for(EventPublisher()) is not hub_for(publisher)


async def test_events_published_together_reach_each_client_in_one_write() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher)
    alpha, beta = join(hub, "alpha"), join(hub, "beta")
    for n in range(5):  # as the events of one AMI read are: published before the hub runs
        publisher.publish({"organization": "alpha" if n != 2 else "beta", "n": n})
    await _settle()
    assert len(alpha.frames) == 1 and len(beta.frames) == 1
    assert [e["n"] for e in _texts(alpha)] == [0, 1, 3, 4]
    assert [e["n"] for e in _texts(beta)] == [2]
