"""CallModel: tables of AMI event sequences -> expected channel state (no socket)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pbx_control.ami.calls import CallModel, Channel, endpoint_of
from pbx_control.ami.events import EventPublisher

pytestmark = [pytest.mark.unit, pytest.mark.ami]

NOW = 1_700_000_000.0
A = "PJSIP/acme_1001_desk-00000001"
B = "PJSIP/acme_1002_desk-00000002"
TRUNK = "PJSIP/acme_trunk-0000000a"


def snap(channel: str, uniqueid: str, prefix: str = "", **fields: str) -> dict[str, str]:
    """Asterisk 22 channel snapshot headers (optionally prefixed, e.g. Dest)."""
    values = {
        "Channel": channel,
        "ChannelState": "0",
        "ChannelStateDesc": "Down",
        "CallerIDNum": "<unknown>",
        "CallerIDName": "<unknown>",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "en",
        "AccountCode": "acme",
        "Context": "acme-internal",
        "Exten": "s",
        "Priority": "1",
        "Uniqueid": uniqueid,
        "Linkedid": "1.1",
    }
    values.update(fields)
    return {prefix + key: value for key, value in values.items()}


def ev(name: str, *parts: dict[str, str], **fields: str) -> dict[str, str]:
    event = {"Event": name, "Privilege": "call,all"}
    for part in parts:
        event.update(part)
    event.update(fields)
    return event


def newchannel(channel: str, uniqueid: str, **fields: str) -> dict[str, str]:
    return ev("Newchannel", snap(channel, uniqueid, **fields))


def hangup(channel: str, uniqueid: str) -> dict[str, str]:
    return ev("Hangup", snap(channel, uniqueid), Cause="16", **{"Cause-txt": "Normal Clearing"})


# A basic internal call: 1001 calls 1002, 1002 answers, both bridged, 1001 hangs up.
CALL = [
    newchannel(A, "1.1", CallerIDNum="1001", CallerIDName="Alice", Exten="1002"),
    ev("Newstate", snap(A, "1.1", ChannelState="4", ChannelStateDesc="Ring", CallerIDNum="1001")),
    newchannel(B, "1.2", Linkedid="1.1", Context="acme-devices"),
    ev(
        "DialBegin",
        snap(A, "1.1", ChannelStateDesc="Ring", CallerIDNum="1001"),
        snap(B, "1.2", prefix="Dest", Linkedid="1.1"),
        DialString="acme_1002_desk",
    ),
    ev("Newstate", snap(B, "1.2", ChannelStateDesc="Ringing", Linkedid="1.1")),
    ev(
        "NewConnectedLine",
        snap(B, "1.2", ChannelStateDesc="Ringing", Linkedid="1.1", ConnectedLineNum="1001"),
    ),
    ev("Newstate", snap(B, "1.2", ChannelStateDesc="Up", Linkedid="1.1", ConnectedLineNum="1001")),
    ev(
        "DialEnd",
        snap(A, "1.1", ChannelStateDesc="Ring", CallerIDNum="1001"),
        snap(B, "1.2", prefix="Dest", ChannelStateDesc="Up", Linkedid="1.1", ConnectedLineNum="1001"),
        DialStatus="ANSWER",
    ),
    ev("Newstate", snap(A, "1.1", ChannelStateDesc="Up", CallerIDNum="1001")),
    ev("BridgeEnter", snap(A, "1.1", ChannelStateDesc="Up", CallerIDNum="1001"), BridgeUniqueid="br-1"),
    ev(
        "BridgeEnter",
        snap(B, "1.2", ChannelStateDesc="Up", Linkedid="1.1", ConnectedLineNum="1001"),
        BridgeUniqueid="br-1",
    ),
]


def fields(channel: Channel | None, *names: str) -> tuple[Any, ...] | None:
    return None if channel is None else tuple(getattr(channel, name) for name in names)


@pytest.mark.parametrize(
    ("events", "uniqueid", "names", "expected"),
    [
        pytest.param(
            CALL[:1],
            "1.1",
            ("name", "endpoint", "state", "caller_id_num", "caller_id_name", "accountcode", "exten"),
            (A, "acme_1001_desk", "Down", "1001", "Alice", "acme", "1002"),
            id="newchannel",
        ),
        pytest.param(CALL[:2], "1.1", ("state",), ("Ring",), id="newstate"),
        pytest.param(
            CALL[:4],
            "1.2",
            ("dialed_by", "dial_status", "state", "linkedid"),
            ("1.1", None, "Down", "1.1"),
            id="dialbegin-links-callee",
        ),
        pytest.param(
            CALL[:6],
            "1.2",
            ("state", "connected_line_num", "connected_line_name"),
            ("Ringing", "1001", ""),
            id="ringing-with-connected-line",
        ),
        pytest.param(CALL[:8], "1.2", ("dial_status", "state"), ("ANSWER", "Up"), id="dialend"),
        pytest.param(CALL, "1.1", ("state", "bridge_id"), ("Up", "br-1"), id="bridged-caller"),
        pytest.param(CALL, "1.2", ("state", "bridge_id"), ("Up", "br-1"), id="bridged-callee"),
        pytest.param(
            [*CALL, ev("BridgeLeave", snap(A, "1.1", ChannelStateDesc="Up"), BridgeUniqueid="br-1")],
            "1.1",
            ("bridge_id",),
            (None,),
            id="bridgeleave",
        ),
        pytest.param(
            [*CALL, ev("BridgeLeave", snap(A, "1.1", ChannelStateDesc="Up"), BridgeUniqueid="other")],
            "1.1",
            ("bridge_id",),
            ("br-1",),
            id="bridgeleave-of-another-bridge-keeps-ours",
        ),
        pytest.param([*CALL, hangup(A, "1.1")], "1.1", ("name",), None, id="hangup-removes"),
        pytest.param([*CALL, hangup(A, "1.1")], "1.2", ("state",), ("Up",), id="hangup-keeps-the-other"),
        pytest.param(
            [
                newchannel(A, "1.1"),
                ev("NewCallerid", snap(A, "1.1", CallerIDNum="+4930123", CallerIDName="Bob")),
            ],
            "1.1",
            ("caller_id_num", "caller_id_name"),
            ("+4930123", "Bob"),
            id="newcallerid",
        ),
        pytest.param(
            [newchannel(TRUNK, "2.1", AccountCode=""), ev("NewAccountCode", snap(TRUNK, "2.1"))],
            "2.1",
            ("accountcode", "endpoint"),
            ("acme", "acme_trunk"),
            id="accountcode-set-later",
        ),
        pytest.param(
            [newchannel(A, "1.1"), ev("Rename", snap(A, "1.1"), Newname=B)],
            "1.1",
            ("name", "endpoint"),
            (B, "acme_1002_desk"),
            id="rename",
        ),
        pytest.param(
            [ev("Newstate", snap(A, "9.9", ChannelStateDesc="Up"))],
            "9.9",
            ("name",),
            None,
            id="unknown-channel-not-created-by-other-events",
        ),
        pytest.param(
            [newchannel(A, "1.1"), hangup(A, "1.1"), ev("Cdr", Channel=A, UniqueID="1.1")],
            "1.1",
            ("name",),
            None,
            id="late-event-does-not-resurrect",
        ),
        pytest.param(
            [{"event": "newchannel", "channel": A, "uniqueid": "1.1", "channelstatedesc": "Ring"}],
            "1.1",
            ("state", "endpoint"),
            ("Ring", "acme_1001_desk"),
            id="header-case-does-not-matter",
        ),
    ],
)
def test_event_sequences(
    events: list[dict[str, str]], uniqueid: str, names: tuple[str, ...], expected: tuple[Any, ...] | None
) -> None:
    model = CallModel(clock=lambda: NOW)
    for event in events:
        model.apply(event)
    assert fields(model.get(uniqueid), *names) == expected


@pytest.mark.parametrize(
    ("name", "endpoint"),
    [
        ("PJSIP/acme_1001_desk-0000002a", "acme_1001_desk"),
        ("PJSIP/acme-hq_1001-0000002a", "acme-hq_1001"),
        ("PJSIP/acme_1001_desk-0000002a<ZOMBIE>", "acme_1001_desk"),
        ("Local/1001@acme-internal-00000001;1", None),
        ("PJSIP/acme_1001_desk", None),
        ("", None),
    ],
)
def test_endpoint_of(name: str, endpoint: str | None) -> None:
    assert endpoint_of(name) == endpoint


def test_queries_and_indexes() -> None:
    model = CallModel(clock=lambda: NOW)
    for event in CALL:
        model.apply(event)
    model.apply(newchannel("PJSIP/globex_2001_desk-00000003", "3.1", AccountCode="globex"))
    assert {c.uniqueid for c in model.by_organization("acme")} == {"1.1", "1.2"}
    assert [c.uniqueid for c in model.by_organization("globex")] == ["3.1"]
    assert [c.uniqueid for c in model.by_endpoint("acme_1002_desk")] == ["1.2"]
    assert model.is_endpoint_busy("acme_1001_desk")
    assert not model.is_endpoint_busy("acme_1003_desk")
    assert len(model) == 3 == len(model.channels())

    model.apply(hangup(A, "1.1"))
    assert not model.is_endpoint_busy("acme_1001_desk")
    assert model.by_endpoint("acme_1001_desk") == []
    assert [c.uniqueid for c in model.by_organization("acme")] == ["1.2"]


def test_accountcode_change_moves_the_organization_index() -> None:
    model = CallModel(clock=lambda: NOW)
    model.apply(newchannel(TRUNK, "2.1", AccountCode=""))
    assert model.by_organization("acme") == []
    model.apply(ev("NewAccountCode", snap(TRUNK, "2.1", AccountCode="acme")))
    assert [c.uniqueid for c in model.by_organization("acme")] == ["2.1"]


def test_created_at_from_timestamp_or_clock() -> None:
    model = CallModel(clock=lambda: NOW)
    model.apply(newchannel(A, "1.1"))
    model.apply({**newchannel(B, "1.2"), "Timestamp": "1699999999.500000"})
    from_clock, from_timestamp = model.get("1.1"), model.get("1.2")
    assert from_clock is not None and from_timestamp is not None
    assert from_clock.created_at == datetime.fromtimestamp(NOW, UTC)
    assert from_timestamp.created_at == datetime.fromtimestamp(1699999999.5, UTC)


def test_apply_reports_changes_and_publishes_only_changes() -> None:
    publisher = EventPublisher()
    subscription = publisher.subscribe()
    model = CallModel(publisher, clock=lambda: NOW)

    assert model.apply(newchannel(A, "1.1")) is True
    assert model.apply(ev("VarSet", snap(A, "1.1"), Variable="X", Value="1")) is False  # nothing new
    assert model.apply(ev("Newstate", snap(A, "1.1", ChannelStateDesc="Ring"))) is True
    assert model.apply(hangup(A, "1.1")) is True
    assert model.apply(hangup(A, "1.1")) is False

    published = [subscription.get_nowait() for _ in range(subscription.queue.qsize())]
    assert [p["type"] for p in published] == ["channel.updated", "channel.updated", "channel.removed"]
    assert published[0]["organization"] == "acme"
    assert published[0]["channel"]["endpoint"] == "acme_1001_desk"
    assert published[1]["channel"]["state"] == "Ring"
    assert published[2] == {
        "type": "channel.removed",
        "uniqueid": "1.1",
        "name": A,
        "endpoint": "acme_1001_desk",
        "organization": "acme",
        "cause": "16",
        "cause_txt": "Normal Clearing",
    }


def test_snapshot_entry_and_reset() -> None:
    publisher = EventPublisher()
    subscription = publisher.subscribe()
    model = CallModel(publisher, clock=lambda: NOW)
    model.apply(newchannel(A, "1.1"))  # stale: not in the snapshot
    entry = ev(
        "CoreShowChannel",
        snap(B, "1.2", ChannelStateDesc="Up", CallerIDNum="1002"),
        ActionID="x",
        BridgeId="br-9",
        Application="Dial",
        Duration="00:01:05",
    )
    channel = model.channel_from_entry(entry)
    assert channel is not None
    assert (channel.endpoint, channel.state, channel.bridge_id) == ("acme_1002_desk", "Up", "br-9")
    assert channel.created_at == datetime.fromtimestamp(NOW - 65, UTC)

    subscription.get_nowait()  # the Newchannel update
    model.reset([channel])
    assert [c.uniqueid for c in model.channels()] == ["1.2"]
    assert not model.is_endpoint_busy("acme_1001_desk")
    reset = subscription.get_nowait()
    assert reset["type"] == "model.reset"
    assert [c["uniqueid"] for c in reset["channels"]] == ["1.2"]


def test_to_dict_has_every_field_as_published() -> None:
    """to_dict is written out field by field (no deep copy per event): it still carries every
    field of Channel, with created_at in ISO form and the organization."""
    from dataclasses import asdict

    created = datetime.fromtimestamp(NOW, UTC)
    channel = Channel(
        name=A,
        uniqueid="1.1",
        linkedid="1.1",
        state="Up",
        caller_id_num="1001",
        caller_id_name="Anna",
        connected_line_num="1002",
        connected_line_name="Bo",
        accountcode="acme",
        endpoint="acme_1001_desk",
        bridge_id="b-1",
        context="org-acme",
        exten="1002",
        dialed_by="1.0",
        dial_status="ANSWER",
        on_hold=True,
        created_at=created,
    )
    expected = asdict(channel) | {"created_at": created.isoformat(), "organization": "acme"}
    assert channel.to_dict() == expected
    assert Channel(name=B, uniqueid="2.2").to_dict()["created_at"] is None
    assert Channel(name=B, uniqueid="2.2").to_dict()["organization"] is None
