"""Moving a call, parking events and a phone's hold after a reconnect, as tables over a live model
fed recorded AMI events: which call *88 takes, what the handler sets, when call.moved is told
(and the old leg hung up), call.parked / call.retrieved, and the hold re-derived from device state."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from pbx_control.ami.calls import CallModel
from pbx_control.ami.events import EventPublisher
from pbx_control.callcontrol.actions import CallControl
from pbx_control.callcontrol.agi import MoveHere
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.move import MoveInProgress, Moves, call_to_take
from pbx_control.dialplan.contract import UnsafeValue

pytestmark = [pytest.mark.unit, pytest.mark.calls]

DESK = {"Channel": "PJSIP/acme_1001_desk-00000001", "Uniqueid": "1.1", "AccountCode": "acme"}
FAR = {"Channel": "PJSIP/trunk_carrier-00000002", "Uniqueid": "1.2", "AccountCode": "acme"}
MOBILE = {"Channel": "PJSIP/acme_1001_mobile-00000003", "Uniqueid": "1.3", "AccountCode": "acme"}


class RecordingAmi:
    def __init__(self, reply: Any = None) -> None:
        self.sent: list[Mapping[str, object]] = []
        self.handlers: dict[str, list[Callable[[Mapping[str, object]], object]]] = {}
        self.reply = reply if reply is not None else {"Response": "Success"}

    def on_event(self, name: str, callback: Callable[[Mapping[str, object]], object]) -> None:
        self.handlers.setdefault(name, []).append(callback)

    def emit(self, model: CallModel, event: Mapping[str, object]) -> None:
        model.apply(event)  # the model subscribed first, as in the service
        for callback in self.handlers.get(str(event["Event"]), []):
            callback(event)

    async def send(self, action: Mapping[str, object], *, timeout_s: float | None = None) -> Any:
        self.sent.append(action)
        return self.reply


def talking(*pairs: tuple[dict[str, str], dict[str, str], str]) -> CallModel:
    model = CallModel()
    for a, b, bridge in pairs:
        for chan in (a, b):
            model.apply({"Event": "Newchannel", **chan, "ChannelStateDesc": "Up"})
            model.apply({"Event": "BridgeEnter", **chan, "BridgeUniqueid": bridge})
    return model


def test_star88_takes_my_answered_call_on_another_device() -> None:
    model = talking((DESK, FAR, "b1"))
    found = call_to_take(model, ["acme_1001_desk"])
    assert found is not None and (found[0].uniqueid, found[1].uniqueid) == ("1.1", "1.2")
    assert call_to_take(model, ["acme_1001_other"]) is None  # nothing on that device
    model.apply({"Event": "Hold", **DESK})  # held on the phone: take it back there first
    assert call_to_take(model, ["acme_1001_desk"]) is None


def test_a_call_between_my_own_devices_is_not_taken() -> None:
    model = talking((DESK, MOBILE, "b1"))
    assert call_to_take(model, ["acme_1001_desk", "acme_1001_mobile"]) is None


def test_the_handler_sets_the_two_uniqueids_and_nothing_else() -> None:
    assert MoveHere("move", "x", "1.2", "1.1").variables() == {
        "PBX_ROUTE": "move",
        "PBX_MOVE_PEER": "1.2",
        "PBX_MOVE_OLD": "1.1",
    }
    assert MoveHere("move-none", "x").variables() == {"PBX_ROUTE": "move-none"}
    with pytest.raises(UnsafeValue):
        MoveHere("move", "x", "1.2,Hangup", "1.1").variables()


def test_the_move_is_told_once_the_far_end_is_bridged_with_the_new_device() -> None:
    async def run() -> tuple[list[dict[str, Any]], list[Mapping[str, object]]]:
        model, ami, publisher = talking((DESK, FAR, "b1")), RecordingAmi(), EventPublisher()
        events = publisher.subscribe()
        Moves(ami, model, publisher)  # type: ignore[arg-type]
        ami.emit(model, {"Event": "Newchannel", **MOBILE, "ChannelStateDesc": "Up"})
        ami.emit(model, {"Event": "UserEvent", **MOBILE, "UserEvent": "PbxMove", "Peer": "1.2", "Old": "1.1"})
        ami.emit(model, {"Event": "BridgeEnter", **MOBILE, "BridgeUniqueid": "b2"})
        assert ami.sent == [] and events.queue.empty()  # the far end is not there yet
        ami.emit(model, {"Event": "BridgeLeave", **FAR, "BridgeUniqueid": "b1"})
        ami.emit(model, {"Event": "BridgeEnter", **FAR, "BridgeUniqueid": "b2"})
        ami.emit(model, {"Event": "BridgeEnter", **FAR, "BridgeUniqueid": "b2"})  # told once
        await asyncio.sleep(0)
        told = []
        while not events.queue.empty():
            told.append(events.get_nowait())
        return [e for e in told if e["type"] == "call.moved"], ami.sent

    moved, sent = asyncio.run(run())
    assert len(moved) == 1 and moved[0]["organization"] == "acme"
    assert moved[0]["call"] == {
        "id": "1.3",
        "endpoint": "acme_1001_mobile",
        "from": "1.1",
        "from_endpoint": "acme_1001_desk",
        "peer": "1.2",
    }
    assert sent == [{"Action": "Hangup", "Channel": DESK["Channel"], "Cause": 16}]  # the old leg


def test_park_and_pick_up_are_events_of_the_organization_whose_lot_it_is() -> None:
    model, ami, publisher = CallModel(), RecordingAmi(), EventPublisher()
    events = publisher.subscribe()
    CallControl(ami, model, publisher)  # type: ignore[arg-type]
    parked = {"ParkeeUniqueid": "1.2", "ParkingLot": "org-acme", "ParkingSpace": "701",
              "ParkeeCallerIDNum": "+46701112233", "ParkeeCallerIDName": "Berit"}  # fmt: skip
    ami.emit(model, {"Event": "ParkedCall", **parked})
    ami.emit(model, {"Event": "UnParkedCall", **parked, "RetrieverUniqueid": "1.9"})
    ami.emit(model, {"Event": "ParkedCall", **parked, "ParkingLot": "default"})  # not an organization's
    told = [events.get_nowait() for _ in range(events.queue.qsize())]
    assert [(e["type"], e["organization"], e["call"]["slot"], e["call"]["peer"]) for e in told] == [
        ("call.parked", "acme", "701", None),
        ("call.retrieved", "acme", "701", "1.9"),
    ]


def test_a_phone_hold_is_re_derived_from_the_held_partys_device_state() -> None:
    held_party = {"Channel": "PJSIP/acme_1002_desk-00000004", "Uniqueid": "1.4", "AccountCode": "acme"}
    model = talking((DESK, held_party, "b1"), (MOBILE, FAR, "b2"))
    reply = [
        {"Response": "Success"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/acme_1002_desk", "State": "ONHOLD"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/trunk_carrier", "State": "INUSE"},
        {"Event": "DeviceStateChange", "Device": "Custom:lamp", "State": "ONHOLD"},
        {"Event": "DeviceStateListComplete"},
    ]
    ami = RecordingAmi(reply)
    hold = Hold(ami, model)  # type: ignore[arg-type]
    assert asyncio.run(hold.rederive_phone_holds()) == 1
    on_hold = {c.uniqueid: c.on_hold for c in model.channels()}
    assert on_hold == {"1.1": True, "1.4": False, "1.3": False, "1.2": False}  # the holder's call
    assert ami.sent == [{"Action": "DeviceStateList"}]


class Ringing:
    """An Originate that is still ringing until `answer()`."""

    def __init__(self) -> None:
        self.answered = asyncio.Event()

    async def result(self, timeout_s: float | None = None) -> dict[str, str]:
        await self.answered.wait()
        return {"Response": "Success"}


def test_a_second_move_of_a_call_that_a_device_rings_to_take_is_refused() -> None:
    async def run() -> list[Mapping[str, object]]:
        model, ami = talking((DESK, FAR, "b1")), RecordingAmi()
        ringing = Ringing()
        originated: list[Mapping[str, object]] = []

        def submit(action: Mapping[str, object]) -> Ringing:
            originated.append(action)
            return ringing

        ami.submit = submit  # type: ignore[attr-defined]
        moves = Moves(ami, model, None)  # type: ignore[arg-type]
        desk, far = model.get("1.1"), model.get("1.2")
        assert desk is not None and far is not None
        moves.move(desk, far, "acme_1001_mobile", "acme")
        with pytest.raises(MoveInProgress):
            moves.move(desk, far, "acme_1001_tablet", "acme")
        ringing.answered.set()  # answered (or not): it may be moved again
        await asyncio.sleep(0.01)
        moves.move(desk, far, "acme_1001_tablet", "acme")
        return originated

    originated = asyncio.run(run())
    assert [a["Channel"] for a in originated] == ["PJSIP/acme_1001_mobile", "PJSIP/acme_1001_tablet"]
    assert originated[0]["Variable"] == ["PBX_MOVE_PEER=1.2", "PBX_MOVE_OLD=1.1"]
    assert (originated[0]["Context"], originated[0]["Exten"], originated[0]["Account"]) == (
        "pbx-move",
        "take",
        "acme",
    )
