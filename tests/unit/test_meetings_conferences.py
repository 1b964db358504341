"""Ad-hoc conferences (pbx_control/meetings/conferences.py) as tables: the participant limit, the
room's events as `conference.*` for the host's devices from the first, and the last one left alone
hung up once nobody rings any more."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from panoramisk.message import Message

from pbx_control.ami import EventPublisher
from pbx_control.meetings.conferences import Conferences, Host, Who, over_limit
from pbx_control.meetings.live import LiveMeetings
from tests.support.clock import DEFAULT, FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.meetings]


@pytest.mark.parametrize(
    ("in_room", "ringing", "adding", "limit", "refused"),
    [
        (2, 0, 1, 3, False),  # a call plus one: three
        (2, 1, 1, 3, True),  # one still ringing counts
        (1, 0, 9, 10, False),  # a multi-party call: me and nine
        (1, 0, 10, 10, True),
        (3, 0, 0, 3, False),
    ],
)
def test_the_limit_counts_those_in_the_room_and_those_ringing(
    in_room: int, ringing: int, adding: int, limit: int, refused: bool
) -> None:
    why = over_limit(in_room, ringing, adding, limit)
    assert (why is not None) == refused
    if why:
        assert f"at most {limit} participants" in why


def ev(name: str, **fields: str) -> Message:
    return Message({"Event": name, "Conference": "c5", **fields})


def joined(uid: str, endpoint: str, name: str, admin: str = "No") -> Message:
    return ev(
        "ConfbridgeJoin",
        Uniqueid=uid,
        Channel=f"PJSIP/{endpoint}-0000000{uid}",
        CallerIDName=name,
        CallerIDNum="100" + uid,
        Admin=admin,
        Muted="No",
        AccountCode="acme",
    )


class FakeAmi:
    """Records the actions (a conference's kicks); nothing to run for real in a table test."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, action: dict[str, Any]) -> list[Any]:
        self.sent.append(action)
        return []


async def test_events_reach_the_host_from_the_first_and_the_last_one_alone_is_hung_up() -> None:
    publisher = EventPublisher()
    live = LiveMeetings(None, publisher, FixedClock(DEFAULT))  # type: ignore[arg-type]
    ami = FakeAmi()
    conferences = Conferences(ami, live)  # type: ignore[arg-type]
    live.expect("c5", "acme", frozenset({"anna_desk", "anna_mobile"}))
    conferences.ringing["c5"] = {1}  # Cecilia still ringing
    with publisher.subscribe() as sub:
        for event in (
            joined("2", "bo_desk", "Bo"),  # Bo's leg arrives before the host's
            joined("1", "anna_desk", "Anna", admin="Yes"),
            ev("ConfbridgeLeave", Uniqueid="2"),
        ):
            assert live.apply(event) is None  # the owner is known: no lookup
        got = []
        while not sub.queue.empty():
            e = sub.get_nowait()
            got.append((e["type"], e.get("participant", {}).get("name"), "anna_mobile" in e["audience"]))
    assert got == [
        ("conference.started", None, True),
        ("conference.participant_joined", "Bo", True),
        ("conference.participant_joined", "Anna", True),
        ("conference.participant_left", "Bo", True),
    ]
    assert ami.sent == []  # Anna is alone, but Cecilia still rings
    conferences._done("c5", 1)  # Cecilia did not answer: Anna is alone, hung up
    for _ in range(3):
        await asyncio.sleep(0)
    assert ami.sent == [
        {"Action": "ConfbridgeKick", "Conference": "c5", "Channel": "PJSIP/anna_desk-00000001"}
    ]
    assert conferences.ringing == {}


async def test_a_colleague_rung_in_is_originated_as_the_hosts_call_and_sees_the_room() -> None:
    publisher = EventPublisher()
    live = LiveMeetings(None, publisher, FixedClock(DEFAULT))  # type: ignore[arg-type]
    ami = FakeAmi()
    conferences = Conferences(ami, live)  # type: ignore[arg-type]
    host = Host("acme", "anna_desk", Who("Anna", "1001"), frozenset({"anna_desk"}))
    conferences.invite("c5", host, "1003", Who("Cecilia", "1003", frozenset({"cecilia_desk"})))
    for _ in range(3):
        await asyncio.sleep(0)
    (originate,) = ami.sent
    assert originate["Channel"] == "Local/1003@pbx-conf-dial/n" and originate["Exten"] == "c5"
    assert originate["Context"] == "pbx-conf-invited" and originate["Account"] == "acme"
    assert originate["CallerID"] == '"Anna" <1001>'  # what Cecilia's phone shows
    assert set(originate["Variable"]) == {
        "PBX_ORG=acme",
        "PBX_CONF_FROM=anna_desk",
        "PBX_CONF_NAME=Cecilia",
        "PBX_CONF_NUM=1003",
    }
    live.expect("c5", "acme", host.devices)
    with publisher.subscribe() as sub:
        live.apply(joined("1", "anna_desk", "Anna", admin="Yes"))
        local = ev("ConfbridgeJoin", Uniqueid="9", Channel="Local/1003@pbx-conf-dial-0000000a;1")
        live.apply(
            Message({**local, "CallerIDName": "Cecilia", "CallerIDNum": "1003", "AccountCode": "acme"})
        )
        events = []
        while not sub.queue.empty():
            events.append(sub.get_nowait())
    assert [e["type"] for e in events][-1] == "conference.participant_joined"
    assert all("cecilia_desk" in e["audience"] for e in events)
    with pytest.raises(ValueError, match="not dialable"):
        conferences.invite("c5", host, "1003;evil", Who("", ""))
    await conferences.stop()
