"""The action lane (pbx_control/ami/lane.py): a second login of the same user with events off
carries the actions, so their answers never wait behind the event stream; what must stay ordered
against events (snapshots, an async Originate) stays on the main login; with the lane down actions
go on the main login, and the lane comes back by itself. Each wait for an answer counts in the
request's Server-Timing `ami`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from pbx_control.ami.actions import prepare_action
from pbx_control.ami.client import EVENT_CLASSES
from pbx_control.ami.errors import AmiTimeout
from pbx_control.ami.lane import ActionLane, lane_may_carry
from pbx_control.kernel.timing import begin_request
from tests.unit.test_ami_client import FakeAmi, eventually, frame, make_client

pytestmark = [pytest.mark.unit, pytest.mark.ami]


class LaneAwareAmi(FakeAmi):
    """Records, for each action, the Events header of the login it came on."""

    def __init__(self) -> None:
        super().__init__()
        self.events_of: dict[asyncio.StreamWriter, str] = {}
        self.seen: list[tuple[str, str]] = []
        self.slow_s = 0.0
        self.refuse_lane = False

    async def _answer(self, h: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        action = h.get("Action", "")
        if action.lower() == "login":
            self.events_of[writer] = h.get("Events", "")
            if self.refuse_lane and h.get("Events") == "off":
                h = {**h, "Secret": "wrong"}
        else:
            self.seen.append((action, self.events_of.get(writer, "?")))
        if action.lower() == "queueadd" and self.slow_s:
            await asyncio.sleep(self.slow_s)
        return await super()._answer(h, writer)

    def lane_writers(self) -> list[asyncio.StreamWriter]:
        return [w for w, ev in self.events_of.items() if ev == "off" and w in self.writers]


@pytest.fixture
async def fake() -> AsyncIterator[LaneAwareAmi]:
    server = LaneAwareAmi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def client(fake: LaneAwareAmi) -> AsyncIterator[Any]:
    ami = make_client(fake.port)
    ami.lane = ActionLane(ami._settings, backoff_initial=0.02, backoff_max=0.2, action_timeout=2.0)
    await ami.start()
    await eventually(lambda: ami.connected and ami.lane is not None and ami.lane.connected)
    yield ami
    await ami.stop()


@pytest.mark.parametrize(
    ("action", "on_lane"),
    [
        ({"Action": "Redirect", "Channel": "PJSIP/a-1", "Context": "c", "Exten": "s", "Priority": 1}, True),
        ({"Action": "Setvar", "Channel": "PJSIP/a-1", "Variable": "X", "Value": "1"}, True),
        ({"Action": "ParkedCalls"}, True),
        ({"Action": "QueueStatus"}, True),
        ({"Action": "Originate", "Channel": "PJSIP/a", "Async": "false"}, True),
        ({"Action": "Originate", "Channel": "PJSIP/a"}, False),  # async: ends at OriginateResponse
        ({"Action": "CoreShowChannels"}, False),  # the call model's snapshot, ordered with events
        ({"Action": "DeviceStateList"}, False),
        ({"Action": "ConfbridgeList", "Conference": "m1"}, False),
        ({"Action": "ConfbridgeListRooms"}, False),
        ({"Action": "Login"}, False),
    ],
)
def test_what_the_lane_carries(action: dict[str, object], on_lane: bool) -> None:
    assert lane_may_carry(prepare_action(action)) is on_lane


async def test_two_logins_of_one_user_and_actions_on_the_lane(fake: LaneAwareAmi, client: Any) -> None:
    logins = [a for a in fake.received if a.get("Action") == "Login"]
    assert len(logins) == 2 and {a["Username"] for a in logins} == {"pbx-control"}
    assert sorted(a.get("Events", "") for a in logins) == ["off", EVENT_CLASSES]
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/a"})
    await client.send({"Action": "Originate", "Channel": "PJSIP/a", "Exten": "s"})
    await client.send({"Action": "CoreShowChannels"})
    assert ("QueueAdd", "off") in fake.seen
    assert ("Originate", EVENT_CLASSES) in fake.seen
    assert ("CoreShowChannels", EVENT_CLASSES) in fake.seen


async def test_an_answer_does_not_wait_behind_events_on_the_main_login(
    fake: LaneAwareAmi, client: Any
) -> None:
    # 20,000 events queued on the main login right before the action: the lane's answer comes first.
    burst = b"".join(
        frame({"Event": "Newstate", "Channel": f"PJSIP/x-{i}", "Uniqueid": f"1.{i}"}) for i in range(20000)
    )
    handled = [0]
    client.on_event("Newstate", lambda _e: handled.__setitem__(0, handled[0] + 1))
    for writer in [w for w, ev in fake.events_of.items() if ev != "off" and w in fake.writers]:
        writer.write(burst)
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/a"})
    assert fake.seen[-1] == ("QueueAdd", "off")
    assert handled[0] < 20000, "the answer came only after every event queued before it"
    await eventually(lambda: handled[0] == 20000, within_s=20)


async def test_lane_down_falls_back_to_main_and_comes_back(fake: LaneAwareAmi, client: Any) -> None:
    lane = client.lane
    before = lane.connections
    fake.refuse_lane = True  # it cannot log in again for now
    for writer in fake.lane_writers():
        writer.transport.abort()
    await eventually(lambda: not lane.connected)
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/a"})
    assert fake.seen[-1] == ("QueueAdd", EVENT_CLASSES)
    assert client.connected
    fake.refuse_lane = False
    await eventually(lambda: lane.connected and lane.connections == before + 1)
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/b"})
    assert fake.seen[-1] == ("QueueAdd", "off")


async def test_the_wait_for_an_answer_counts_in_the_request_timing(fake: LaneAwareAmi, client: Any) -> None:
    fake.slow_s = 0.2
    timing = begin_request()
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/a"})
    assert 0.18 <= timing.ami_s < 1.0
    app, ami = (float(part.split("dur=")[1]) for part in timing.header().split(", "))
    assert ami >= 180 and app < ami


async def test_an_unanswered_action_takes_the_lane_out_until_it_reconnects(
    fake: LaneAwareAmi, client: Any
) -> None:
    """What a stuck Asterisk has not answered must not run late: the lane is dropped (once idle)
    and the next action goes on the main login; then the lane logs in again."""
    lane = client.lane
    before = lane.connections
    with pytest.raises(AmiTimeout):
        await client.send({"Action": "Hold", "Channel": "PJSIP/a-1"}, timeout_s=0.2)  # never answered
    assert fake.seen[-1] == ("Hold", "off")
    assert not lane.connected
    fake.refuse_lane = True
    await client.send({"Action": "QueueAdd", "Queue": "g1v1", "Interface": "PJSIP/a"})
    assert fake.seen[-1] == ("QueueAdd", EVENT_CLASSES)
    fake.refuse_lane = False
    await eventually(lambda: lane.connected and lane.connections == before + 1)


async def test_a_stuck_lane_lets_the_other_waiting_actions_reach_their_own_deadline(
    fake: LaneAwareAmi,
) -> None:
    """Once one action went unanswered the lane takes no new action (its Ping neither): its watch
    must not end the session then, or the actions still waiting on it fail at once as 'not
    connected' (a 503) instead of at their own deadline (a 504). Found in a fresh-clone run."""
    ami = make_client(fake.port)
    ami.lane = ActionLane(ami._settings, backoff_initial=0.02, backoff_max=0.2, ping_interval=0.05)
    await ami.start()
    try:
        await eventually(lambda: ami.connected and ami.lane is not None and ami.lane.connected)
        first = asyncio.ensure_future(ami.send({"Action": "Hold", "Channel": "PJSIP/a-1"}, timeout_s=0.2))
        second = asyncio.ensure_future(ami.send({"Action": "Hold", "Channel": "PJSIP/b-1"}, timeout_s=0.8))
        with pytest.raises(AmiTimeout):
            await first
        with pytest.raises(AmiTimeout):  # not AmiUnavailable: several Ping ticks passed meanwhile
            await second
        assert [a for a in fake.seen if a[0] == "Hold"] == [("Hold", "off"), ("Hold", "off")]
    finally:
        await ami.stop()
