"""The waiting callers read from AMI QueueStatus (only our queues' QueueEntry events count) of
the queues that have callers, known from app_queue's events; the AMI answers the groups' start-up
work reads."""

from __future__ import annotations

import pytest
from panoramisk.message import Message

from pbx_control.ami import AmiUnavailable
from pbx_control.groups.lamps import lamp_states
from pbx_control.groups.queued import Entry, QueueStatus, entries
from pbx_control.groups.reconcile import Reconciler, first_value
from pbx_control.groups.waiting import WaitingQueues, queue_of_channel

pytestmark = [pytest.mark.unit, pytest.mark.groups]


def test_queue_entries_of_our_queues() -> None:
    answer = [
        {"Event": "QueueParams", "Queue": "g7v2", "Calls": "2"},
        {"Event": "QueueMember", "Queue": "g7v2", "Name": "Local/12@pbx-member"},
        {"Event": "QueueEntry", "Queue": "g7v2", "Position": "1", "Uniqueid": "1700000000.11",
         "CallerIDNum": "1001", "CallerIDName": "Anna Svensson", "Wait": "12"},
        {"Event": "QueueEntry", "Queue": "g7v2", "Position": "2", "Uniqueid": "1700000000.15",
         "CallerIDNum": "+46701234567", "CallerIDName": "<unknown>", "Wait": "x"},
        {"Event": "QueueEntry", "Queue": "support", "Position": "1", "Uniqueid": "9.9"},  # not ours
        {"Event": "QueueStatusComplete"},
    ]  # fmt: skip
    assert entries(answer) == [
        Entry(7, 1, "1700000000.11", "1001", "Anna Svensson", 12),
        Entry(7, 2, "1700000000.15", "+46701234567", "", 0),
    ]


def test_waiting_queues_follow_join_and_leave_counts() -> None:
    w = WaitingQueues()
    w.on_event({"Event": "QueueCallerJoin", "Queue": "g7v2", "Count": "1"})
    w.on_event({"Event": "QueueCallerJoin", "Queue": "g7v2", "Count": "2"})
    w.on_event({"Event": "QueueCallerJoin", "Queue": "g9v1", "Count": "1"})
    w.on_event({"Event": "QueueCallerJoin", "Queue": "support", "Count": "1"})  # not ours
    assert w.names() == ["g7v2", "g9v1"]
    w.on_event({"Event": "QueueCallerAbandon", "Queue": "g9v1", "Position": "1"})
    w.on_event({"Event": "QueueCallerLeave", "Queue": "g9v1", "Count": "0"})
    w.on_event({"Event": "QueueCallerLeave", "Queue": "g7v2", "Count": "1"})
    assert w.names() == ["g7v2"]
    w.on_event({"Event": "QueueCallerLeave", "Queue": "g7v2"})  # no Count: one fewer
    assert w.names() == []
    assert w.changes == 8  # every event is a change, for the answer's cache


def test_waiting_queues_rederived_from_the_channels_in_queue() -> None:
    w = WaitingQueues()
    w.on_event({"Event": "QueueCallerJoin", "Queue": "g1v1", "Count": "1"})  # left while away
    w.replace(
        [
            {"Event": "CoreShowChannel", "Application": "Queue", "ApplicationData": "g7v3,r,,,120"},
            {"Event": "CoreShowChannel", "Application": "Queue", "ApplicationData": "g7v3,r,,,120"},
            {"Event": "CoreShowChannel", "Application": "Dial", "ApplicationData": "PJSIP/x"},
            {"Event": "CoreShowChannel", "Application": "Queue", "ApplicationData": "other,r"},
            {"Event": "CoreShowChannelsComplete", "ListItems": "4"},
        ]
    )
    assert w.names() == ["g7v3"]
    assert queue_of_channel({"Application": "queue", "ApplicationData": "g2v1"}) == "g2v1"
    assert queue_of_channel({"Application": "Queue", "ApplicationData": ""}) is None


def test_a_getvar_answer_without_a_value_is_empty() -> None:
    assert first_value(Message({"Response": "Success", "Variable": "X", "Value": ""})) == ""
    assert first_value(Message({"Response": "Success", "Variable": "X", "Value": "(null)"})) == ""
    assert first_value([Message({"Response": "Success", "Value": "1"})]) == "1"


def test_custom_device_states_from_dbgettree() -> None:
    answer = [
        {"Response": "Success", "EventList": "start"},
        {"Event": "DBGetTreeResponse", "Key": "/CustomDevstate/pbxnight7", "Val": "INUSE"},
        {"Event": "DBGetTreeResponse", "Key": "/CustomDevstate/pbxnight9", "Val": "not_inuse"},
        {"Event": "DBGetTreeComplete", "ListItems": "2"},
    ]
    assert lamp_states(answer) == {"Custom:pbxnight7": "INUSE", "Custom:pbxnight9": "NOT_INUSE"}


class _Ami:
    def __init__(self, connected: bool) -> None:
        self.connected = connected
        self.sent: list[dict[str, str]] = []

    async def send(self, action: dict[str, str], timeout_s: float = 0) -> list[dict[str, str]]:
        self.sent.append(action)
        return [
            {"Event": "QueueEntry", "Queue": action["Queue"], "Position": "1", "Uniqueid": "1.1", "Wait": "3"}
        ]


async def test_only_queues_with_callers_are_asked_and_never_without_a_connection() -> None:
    w = WaitingQueues()
    status = QueueStatus(w)
    ami = _Ami(connected=True)
    assert await status.now(ami) == []  # type: ignore[arg-type]
    assert ami.sent == []  # nobody waits: Asterisk is not asked at all
    w.on_event({"Event": "QueueCallerJoin", "Queue": "g7v2", "Count": "1"})
    found = await status.now(ami)  # type: ignore[arg-type]
    assert ami.sent == [{"Action": "QueueStatus", "Queue": "g7v2"}]
    assert [e.group_id for e in found] == [7]
    assert await status.now(ami) == found  # type: ignore[arg-type]
    assert len(ami.sent) == 1  # the cached answer
    w.on_event({"Event": "QueueCallerLeave", "Queue": "g7v2", "Count": "0"})
    with pytest.raises(AmiUnavailable):
        await status.now(_Ami(connected=False))  # type: ignore[arg-type]


class _Pool:
    async def fetch(self, query: str, *args: object) -> list[dict[str, str]]:
        assert "answer_group_queue_names" in query
        return [{"name": "g1v1"}, {"name": "g2v4"}]


class _ReconcileAmi:
    def __init__(self, watched: str) -> None:
        self.watched = watched
        self.sent: list[dict[str, str]] = []

    async def send(self, action: dict[str, str], timeout_s: float = 0) -> object:
        self.sent.append(action)
        if action["Action"] == "Getvar":
            return {"Response": "Success", "Variable": action["Variable"], "Value": self.watched}
        if action["Action"] == "QueueStatus":
            return [{"Event": "QueueParams", "Queue": action["Queue"]}, {"Event": "QueueStatusComplete"}]
        return {"Response": "Success"}


@pytest.mark.parametrize(
    ("watched", "asked"),
    [
        ("", [("Getvar", ""), ("Setvar", "")]),  # a fresh Asterisk: marked, nothing swept
        ("1", [("Getvar", ""), ("QueueStatus", "g1v1"), ("QueueStatus", "g2v4")]),  # one queue at a time
    ],
)
async def test_stray_members_are_looked_for_only_in_an_asterisk_watched_before(
    watched: str, asked: list[tuple[str, str]]
) -> None:
    ami = _ReconcileAmi(watched)
    await Reconciler(_Pool(), ami).on_ready()  # type: ignore[arg-type]
    assert [(a["Action"], a.get("Queue", "")) for a in ami.sent] == asked
    assert all("Queue" in a for a in ami.sent if a["Action"] == "QueueStatus")  # never all queues
