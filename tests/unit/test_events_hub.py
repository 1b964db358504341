"""EventHub: per-organization fan-out of the EventPublisher, framed once, bounded per client."""

from __future__ import annotations

import asyncio
import json

import pytest

from pbx_control.ami.calls import CallModel
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


def _texts(sink: Sink, *, numbered: bool = False) -> list[dict]:
    """The messages written to the sink (without seq and epoch unless `numbered`)."""
    out = [json.loads(text) for f in sink.frames for text in frame_texts(f)]
    sink.frames.clear()
    if not numbered:
        for message in out:
            message.pop("seq", None)
            message.pop("epoch", None)
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
    hub = EventHub(publisher, linger_s=0)
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


# -- visibility, seq, window, replay ---------------------------------------------------------------

MINE = frozenset({"alpha_1001_desk"})


def _chan(uid: str, endpoint: str | None, **extra: object) -> dict:
    return {
        "type": "channel.updated",
        "organization": "alpha",
        "channel": {"uniqueid": uid, "endpoint": endpoint, "organization": "alpha", **extra},
    }


def _uids(messages: list[dict]) -> list[str]:
    return [m["channel"]["uniqueid"] if "channel" in m else m.get("uniqueid", m["type"]) for m in messages]


async def test_each_event_carries_its_organizations_next_seq_and_the_epoch() -> None:
    hub = EventHub(EventPublisher())
    alpha, beta = join(hub, "alpha"), join(hub, "beta")
    hub.dispatch(_chan("a1", None), {"type": "g", "organization": "beta"}, _chan("a2", None))
    got_alpha, got_beta = _texts(alpha, numbered=True), _texts(beta, numbered=True)
    assert [m["seq"] for m in got_alpha] == [1, 2]
    assert [m["seq"] for m in got_beta] == [1]
    assert {m["epoch"] for m in got_alpha + got_beta} == {hub.epoch}
    assert hub.position("alpha") == 2 and hub.position("beta") == 1


async def test_a_plain_user_gets_own_calls_and_org_events_an_operator_everything() -> None:
    hub = EventHub(EventPublisher())
    user = join(hub, "alpha", scope=MINE)
    operator = join(hub, "alpha", scope=None)
    hub.dispatch(
        _chan("mine", "alpha_1001_desk"),
        _chan("colleague", "alpha_1000_desk"),
        _chan("trunk", None),  # not bridged to anyone (yet)
        {"type": "presence.changed", "organization": "alpha", "uniqueid": "presence"},
        {
            "type": "channel.removed",
            "organization": "alpha",
            "uniqueid": "colleague",
            "endpoint": "alpha_1000_desk",
        },
    )
    assert _uids(_texts(user)) == ["mine", "presence"]
    assert _uids(_texts(operator)) == ["mine", "colleague", "trunk", "presence", "colleague"]


async def test_the_other_leg_bridged_to_my_device_is_mine_and_so_is_its_removal() -> None:
    calls = CallModel()
    for uid, name in (("1.1", "PJSIP/alpha_1001_desk-00000001"), ("1.2", "PJSIP/trunk_out-00000002")):
        calls.apply({"Event": "Newchannel", "Uniqueid": uid, "Channel": name, "AccountCode": "alpha"})
        calls.apply({"Event": "BridgeEnter", "Uniqueid": uid, "BridgeUniqueid": "br-1"})
    hub = EventHub(EventPublisher(), calls=calls)
    user = join(hub, "alpha", scope=MINE)
    colleague = join(hub, "alpha", scope=frozenset({"alpha_1000_desk"}))
    trunk = calls.get("1.2")
    assert trunk is not None
    hub.dispatch({"type": "channel.updated", "organization": "alpha", "channel": trunk.to_dict()})
    calls.apply({"Event": "BridgeLeave", "Uniqueid": "1.2", "BridgeUniqueid": "br-1"})
    calls.apply({"Event": "Hangup", "Uniqueid": "1.2"})
    hub.dispatch(
        {"type": "channel.removed", "organization": "alpha", "uniqueid": "1.2", "endpoint": "trunk_out"}
    )
    assert _uids(_texts(user)) == ["1.2", "1.2"]
    assert _texts(colleague) == []


async def test_one_frame_for_everyone_who_sees_an_event() -> None:
    hub = EventHub(EventPublisher())
    sinks = [join(hub, "alpha", scope=MINE), join(hub, "alpha", scope=None), join(hub, "alpha", scope=MINE)]
    hub.dispatch(_chan("mine", "alpha_1001_desk"))
    assert len({id(frame) for sink in sinks for frame in sink.frames}) == 1


async def test_replay_gives_what_was_missed_by_the_same_rule() -> None:
    hub = EventHub(EventPublisher())
    join(hub, "alpha")  # keeps the hub running
    hub.dispatch(_chan("before", "alpha_1001_desk"))
    since = hub.position("alpha")
    hub.dispatch(
        _chan("mine", "alpha_1001_desk"),
        _chan("colleague", "alpha_1000_desk"),
        {"type": "group.changed", "organization": "alpha", "uniqueid": "group"},
    )
    frames = hub.replay("alpha", since, MINE, hub.epoch)
    assert frames is not None
    replayed = [json.loads(t) for f in frames for t in frame_texts(f)]
    assert _uids(replayed) == ["mine", "group"]
    assert [m["seq"] for m in replayed] == [since + 1, since + 3]
    everything = hub.replay("alpha", since, None)
    assert everything is not None and len(everything) == 3
    assert hub.replay("alpha", hub.position("alpha"), MINE, hub.epoch) == []  # nothing missed


async def test_replay_is_refused_when_the_window_moved_on_or_the_epoch_changed() -> None:
    hub = EventHub(EventPublisher(), window=3)
    join(hub, "alpha")
    for n in range(5):
        hub.dispatch(_chan(str(n), None))
    assert hub.position("alpha") == 5
    assert hub.replay("alpha", 1, None) is None  # 2 is no longer held
    frames = hub.replay("alpha", 2, None)
    assert frames is not None and len(frames) == 3
    assert hub.replay("alpha", 2, None, "another-epoch") is None  # before a restart
    assert hub.replay("alpha", 6, None) is None  # from the future: another process's numbers
    hub.dispatch({"type": "model.reset", "channels": []})
    hub.dispatch(_chan("after", None))
    assert hub.replay("alpha", 5, None) is None  # a reset in between: start from a snapshot
    assert hub.replay("alpha", 6, None) is not None


async def test_the_window_is_bounded_in_bytes_too() -> None:
    hub = EventHub(EventPublisher(), window=1000, window_bytes=10_000)
    join(hub, "alpha")
    for n in range(20):
        hub.dispatch(_chan(str(n), None, padding="x" * 1000))
    assert hub.replay("alpha", 0, None) is None
    frames = hub.replay("alpha", 15, None)
    assert frames is not None and len(frames) == 5


async def test_the_hub_keeps_numbering_a_while_after_its_last_client_then_changes_epoch() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher, linger_s=0.05)
    feed = hub.join("alpha", 1, Sink())
    publisher.publish({"type": "x", "organization": "alpha"})
    await _settle()
    hub.leave(feed)
    publisher.publish({"type": "x", "organization": "alpha"})  # nobody connected: still numbered
    await _settle()
    assert hub.position("alpha") == 2 and publisher.subscriber_count == 1
    frames = hub.replay("alpha", 1, None, hub.epoch)
    assert frames is not None and len(frames) == 1
    epoch = hub.epoch
    await asyncio.sleep(0.1)
    assert publisher.subscriber_count == 0
    assert hub.epoch != epoch
    assert hub.replay("alpha", 1, None, epoch) is None


async def test_a_lost_stretch_of_events_cannot_be_replayed_across() -> None:
    publisher = EventPublisher()
    hub = EventHub(publisher, hub_queue=2)
    join(hub, "alpha")
    await _settle()
    for n in range(5):
        publisher.publish({"type": "x", "organization": "alpha", "n": n})
    await _settle()
    assert hub.replay("alpha", 0, None) is None
    assert hub.replay("alpha", hub.position("alpha") - 2, None) is not None  # after the loss


async def test_an_owners_event_reaches_only_that_user_live_and_in_a_replay() -> None:
    """Voicemail events carry owner_user_id: only that user's clients get them, whatever the role
    (an operator's or admin's scope None sees every call, not a colleague's voicemail)."""
    hub = EventHub(EventPublisher())
    owner = join(hub, "alpha", scope=MINE, user_id=7)
    admin = join(hub, "alpha", scope=None, user_id=1)
    colleague = join(hub, "alpha", scope=frozenset({"alpha_1000_desk"}), user_id=8)
    since = hub.position("alpha")
    event = {
        "type": "voicemail.message_added",
        "organization": "alpha",
        "owner_user_id": 7,
        "message": {"id": 3},
    }
    hub.dispatch(event)
    got = _texts(owner)
    assert [m["type"] for m in got] == ["voicemail.message_added"] and "owner_user_id" not in got[0]
    assert _texts(admin) == [] and _texts(colleague) == []
    assert len(hub.replay("alpha", since, MINE, hub.epoch, 7) or []) == 1
    assert hub.replay("alpha", since, None, hub.epoch, 1) == []
