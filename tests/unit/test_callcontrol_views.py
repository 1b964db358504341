"""Which live channels are whose calls, and who the other party is: tables over a CallModel fed
AMI events (no socket)."""

from __future__ import annotations

import pytest

from pbx_control.ami.calls import CallModel
from pbx_control.callcontrol.actions import is_uniqueid, lot_of
from pbx_control.callcontrol.views import calls_of, peer_of
from tests.unit.test_ami_calls import A, B, ev, newchannel, snap

pytestmark = [pytest.mark.unit, pytest.mark.calls]
C = "PJSIP/acme_1003_desk-00000003"


def model(*events: dict[str, str]) -> CallModel:
    calls = CallModel(clock=lambda: 1_700_000_000.0)
    for e in events:
        calls.apply(e)
    return calls


def bridge_enter(channel: str, uniqueid: str, bridge: str, **fields: str) -> dict[str, str]:
    return ev("BridgeEnter", snap(channel, uniqueid, ChannelStateDesc="Up", **fields), BridgeUniqueid=bridge)


RINGING = [
    newchannel(A, "1.1", CallerIDNum="1001", CallerIDName="Anna", ChannelStateDesc="Ring"),
    newchannel(B, "1.2", ChannelStateDesc="Ringing", ConnectedLineNum="1001", ConnectedLineName="Anna"),
]
TALKING = [
    *RINGING,
    bridge_enter(A, "1.1", "br-1", CallerIDNum="1001", CallerIDName="Anna"),
    bridge_enter(B, "1.2", "br-1", ConnectedLineNum="1001", ConnectedLineName="Anna"),
]


@pytest.mark.parametrize(
    ("events", "endpoint", "expected"),
    [
        ([], "acme_1002_desk", []),
        (RINGING, "acme_1002_desk", [("1.2", "Ringing", "1001", "Anna", False)]),
        (TALKING, "acme_1002_desk", [("1.2", "Up", "1001", "Anna", True)]),
        (TALKING, "acme_1001_desk", [("1.1", "Up", "", "", True)]),
        (TALKING, "acme_1003_desk", []),
    ],
)
def test_calls_of_a_device(events: list, endpoint: str, expected: list) -> None:
    views = calls_of(model(*events), [endpoint])
    assert [(v.id, v.state, v.peer_number, v.peer_name, v.bridged) for v in views] == expected


def test_the_peer_is_the_other_channel_of_the_same_bridge() -> None:
    calls = model(*TALKING, newchannel(C, "1.3"), bridge_enter(C, "1.3", "br-2"))
    a, b, c = calls.get("1.1"), calls.get("1.2"), calls.get("1.3")
    assert a and b and c
    assert peer_of(calls, b) == a and peer_of(calls, a) == b
    assert peer_of(calls, c) is None  # alone in its bridge
    ringing = model(*RINGING).get("1.2")
    assert ringing is not None
    assert peer_of(calls, ringing) is None  # not answered yet


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1795971502.6", True),
        ("test15000-1795971502.6", True),
        ("1.2\nAction: Originate", False),
        ("", False),
        ("abc", False),
        ("1.2; Hangup", False),
    ],
)
def test_only_asterisk_uniqueids_are_accepted(value: str, ok: bool) -> None:
    assert is_uniqueid(value) is ok


@pytest.mark.parametrize("slug", ["", "Acme", "a", "acme-x", "acme\n"])
def test_a_lot_is_only_made_from_a_valid_organization_slug(slug: str) -> None:
    with pytest.raises(ValueError):
        lot_of(slug)
    assert lot_of("acme") == "org-acme"
