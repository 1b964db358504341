"""The live rooms from AMI's Confbridge* events (pbx_control/meetings/live.py), as a table of
events in and published events out: order, audience, other conferences ignored."""

from __future__ import annotations

from typing import Any

import pytest
from panoramisk.message import Message

from pbx_control.ami import EventPublisher
from pbx_control.meetings.live import LiveMeetings
from tests.support.clock import DEFAULT, FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.meetings]


def ev(name: str, **fields: str) -> Message:
    return Message({"Event": name, "Conference": "m7", **fields})


def joined(uid: str, endpoint: str, name: str, num: str, admin: str = "No") -> Message:
    return ev(
        "ConfbridgeJoin",
        Uniqueid=uid,
        Channel=f"PJSIP/{endpoint}-0000000{uid}",
        CallerIDName=name,
        CallerIDNum=num,
        Admin=admin,
        Muted="No",
        AccountCode="acme",
    )


# AMI events in -> (type, participant name, audience) published
SCRIPT: list[tuple[Message, list[tuple[str, str | None, list[str]]]]] = [
    (ev("ConfbridgeStart"), []),  # the organization is not known yet: held back
    (
        joined("1", "anna_desk", "Anna", "1001", admin="Yes"),
        [("meeting.started", None, ["anna_desk"]), ("meeting.participant_joined", "Anna", ["anna_desk"])],
    ),
    (joined("2", "bo_desk", "Bo", "1002"), [("meeting.participant_joined", "Bo", ["anna_desk", "bo_desk"])]),
    (
        ev("ConfbridgeTalking", Uniqueid="2", TalkingStatus="on"),
        [("meeting.participant_talking", "Bo", ["anna_desk", "bo_desk"])],
    ),
    (ev("ConfbridgeTalking", Uniqueid="2", TalkingStatus="on"), []),  # no change, no event
    (ev("ConfbridgeMute", Uniqueid="2"), [("meeting.participant_muted", "Bo", ["anna_desk", "bo_desk"])]),
    (ev("ConfbridgeJoin", Conference="x1", Uniqueid="9"), []),  # not a meeting room
    (ev("ConfbridgeLock"), [("meeting.locked", None, ["anna_desk", "bo_desk"])]),
    (ev("ConfbridgeLeave", Uniqueid="2"), [("meeting.participant_left", "Bo", ["anna_desk", "bo_desk"])]),
    (ev("ConfbridgeLeave", Uniqueid="1"), [("meeting.participant_left", "Anna", ["anna_desk"])]),
    (ev("ConfbridgeEnd"), [("meeting.ended", None, ["anna_desk", "bo_desk"])]),
]


def test_events_in_order_with_their_audience() -> None:
    publisher = EventPublisher()
    live = LiveMeetings(None, publisher, FixedClock(DEFAULT))  # type: ignore[arg-type]  # no owner lookups
    with publisher.subscribe() as sub:
        for event, want in SCRIPT:
            result = live.apply(event)
            if hasattr(result, "close"):
                result.close()  # the owner lookup coroutine: not run here
            got: list[tuple[str, Any, list[str]]] = []
            while not sub.queue.empty():
                e = sub.get_nowait()
                assert e["organization"] == "acme" and e["meeting"]["id"] == 7
                got.append((e["type"], e.get("participant", {}).get("name"), e["audience"]))
            assert got == want, event
    assert live.rooms == {}


def test_the_room_state_the_api_shows() -> None:
    live = LiveMeetings(None, None, FixedClock(DEFAULT))  # type: ignore[arg-type]
    for event in (
        ev("ConfbridgeStart"),
        joined("1", "anna_desk", "Anna", "1001", "Yes"),
        joined("2", "bo_desk", "Bo", "<unknown>"),
    ):
        result = live.apply(event)
        if hasattr(result, "close"):
            result.close()
    live.apply(ev("ConfbridgeMute", Uniqueid="2"))
    room = live.rooms["m7"]
    people = sorted((p.to_dict() for p in room.participants.values()), key=lambda p: p["id"])
    assert [(p["id"], p["name"], p["number"], p["host"], p["muted"]) for p in people] == [
        (1, "Anna", "1001", True, False),
        (2, "Bo", "", False, True),
    ]
    assert room.by_id(2).channel == "PJSIP/bo_desk-00000002"
