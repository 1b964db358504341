"""Hold's own registry of the calls it holds: an app hold shows as held even when the live model
never sees the dialplan location (no dialplan events on the AMI login), and it goes on resume,
on hangup of either party and on a re-derived model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

from pbx_control.ami.calls import CallModel
from pbx_control.ami.events import EventPublisher
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.views import calls_of

pytestmark = [pytest.mark.unit, pytest.mark.calls]

MINE = {"Channel": "PJSIP/acme_1001_desk-00000001", "Uniqueid": "1.1", "AccountCode": "acme"}
PEER = {"Channel": "PJSIP/acme_1002_desk-00000002", "Uniqueid": "1.2", "AccountCode": "acme"}


class RecordingAmi:
    def __init__(self) -> None:
        self.sent: list[Mapping[str, object]] = []
        self.handlers: dict[str, Callable[[Mapping[str, object]], object]] = {}

    def on_event(self, name: str, callback: Callable[[Mapping[str, object]], object]) -> None:
        self.handlers[name] = callback

    async def send(self, action: Mapping[str, object], *, timeout_s: float | None = None) -> dict[str, str]:
        self.sent.append(action)
        return {"Response": "Success"}


def bridged() -> CallModel:
    model = CallModel()
    for chan in (MINE, PEER):
        model.apply({"Event": "Newchannel", **chan, "ChannelStateDesc": "Up"})
        model.apply({"Event": "BridgeEnter", **chan, "BridgeUniqueid": "b1"})
    return model


def held_after(model: CallModel, hold: Hold) -> list[bool]:
    return [v.held for v in calls_of(model, ["acme_1001_desk"], hold.is_held)]


def held_call(publisher: EventPublisher | None = None) -> tuple[CallModel, Hold, RecordingAmi]:
    model, ami = bridged(), RecordingAmi()
    hold = Hold(ami, model, publisher)  # type: ignore[arg-type]
    mine, peer = model.get("1.1"), model.get("1.2")
    assert mine is not None and peer is not None
    asyncio.run(hold.hold(mine, peer))
    for chan in (MINE, PEER):  # the Redirect takes both out of the bridge; no Newexten follows
        model.apply({"Event": "BridgeLeave", **chan, "BridgeUniqueid": "b1"})
    return model, hold, ami


def test_an_app_hold_is_held_without_dialplan_events() -> None:
    model, hold, ami = held_call()
    mine = model.get("1.1")
    assert mine is not None and mine.context != "pbx-hold"  # the model never saw the hold dialplan
    assert hold.held_by_app(mine) and held_after(model, hold) == [True]
    assert [a["Action"] for a in ami.sent][-1] == "Redirect"


def test_resume_clears_it() -> None:
    model, hold, ami = held_call()
    mine = model.get("1.1")
    assert mine is not None
    peer = asyncio.run(hold.held_peer(mine))
    assert peer is not None and peer.uniqueid == "1.2"  # from the registry, no Getvar
    asyncio.run(hold.resume(mine, peer))
    assert not hold.held_by_app(mine) and held_after(model, hold) == [False]
    assert ami.sent[-1]["Action"] == "Bridge"


def test_the_held_party_hanging_up_clears_it() -> None:
    model, hold, _ = held_call()
    model.apply({"Event": "Hangup", **PEER, "Cause": "16"})
    assert held_after(model, hold) == [False]


def test_a_re_derived_model_clears_it() -> None:
    model, hold, _ = held_call()
    model.reset(model.channels())  # as after an AMI reconnect
    assert held_after(model, hold) == [False]


def test_one_lock_per_call() -> None:
    model, hold, _ = held_call()
    mine, peer = model.get("1.1"), model.get("1.2")
    assert mine is not None and peer is not None
    assert hold.lock(mine) is hold.lock(mine) and hold.lock(mine) is not hold.lock(peer)


def test_app_hold_and_resume_are_published() -> None:
    publisher = EventPublisher()
    with publisher.subscribe() as events:
        model, hold, _ = held_call(publisher)
        mine = model.get("1.1")
        peer = asyncio.run(hold.held_peer(mine)) if mine is not None else None
        assert mine is not None and peer is not None
        asyncio.run(hold.resume(mine, peer))
        got = [events.get_nowait() for _ in range(events.queue.qsize())]
    mine_events = [e for e in got if str(e.get("type", "")).startswith("call.")]
    assert mine_events == [
        {
            "type": kind,
            "organization": "acme",
            "call": {"id": "1.1", "endpoint": "acme_1001_desk", "peer": "1.2", "by": "app"},
        }
        for kind in ("call.held", "call.resumed")
    ]


def test_a_phone_hold_is_published() -> None:
    publisher = EventPublisher()
    model, ami = bridged(), RecordingAmi()
    Hold(ami, model, publisher)  # type: ignore[arg-type]
    with publisher.subscribe() as events:
        for kind in ("Hold", "Unhold"):
            event = {"Event": kind, **MINE}
            model.apply(event)
            ami.handlers[kind](event)
        got = [events.get_nowait() for _ in range(events.queue.qsize())]
    assert [(e["type"], e["call"]["by"], e["call"]["peer"]) for e in got if "call" in e] == [
        ("call.held", "phone", "1.2"),
        ("call.resumed", "phone", "1.2"),
    ]
