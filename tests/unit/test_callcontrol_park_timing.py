"""A park waits for Asterisk twice: the AMI responses, and the ParkedCall event that says where
the call went (Park() runs in the channel's own dialplan). Both count as the request's wait on
Asterisk (Server-Timing `ami`), not as the service's own work (`app`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.callcontrol.actions import CallControl
from pbx_control.kernel.timing import asterisk_wait, begin_request

pytestmark = [pytest.mark.unit, pytest.mark.calls]

PARK_S = 0.2


class ParkingAsterisk:
    """Answers every action at once; a Redirect to the lot is followed, PARK_S later, by ParkedCall."""

    def __init__(self) -> None:
        self.handlers: dict[str, Callable[[dict[str, object]], None]] = {}
        self.sent: list[dict[str, Any]] = []

    def on_event(self, name: str, callback: Callable[[dict[str, object]], None]) -> Callable[[], None]:
        self.handlers[name] = callback
        return lambda: None

    async def send(self, action: dict[str, Any], **_: Any) -> dict[str, str]:
        self.sent.append(action)
        if action["Action"] == "Redirect":
            event = {"ParkeeUniqueid": "1700000000.1", "ParkingSpace": "701", "ParkingLot": action["Exten"]}
            asyncio.get_running_loop().call_later(PARK_S, self.handlers["ParkedCall"], event)
        return {"Response": "Success"}


async def test_the_wait_for_parkedcall_counts_as_the_wait_on_asterisk() -> None:
    ami = ParkingAsterisk()
    control = CallControl(ami, CallModel())  # type: ignore[arg-type]
    peer = Channel(name="PJSIP/acme_1001-00000001", uniqueid="1700000000.1", accountcode="acme")
    timing = begin_request()
    event = await control.park(peer, "acme", "1002", 30)
    assert event["ParkingSpace"] == "701"
    assert [a["Action"] for a in ami.sent] == ["Setvar", "Setvar", "Redirect"]
    assert timing.ami_s >= PARK_S * 0.9
    app, ami_ms = (float(part.split("dur=")[1]) for part in timing.header().split(", "))
    assert ami_ms >= PARK_S * 900 and app < 50


async def test_asterisk_wait_adds_only_inside_a_request() -> None:
    with asterisk_wait():  # no request: nothing to add to, nothing raised
        await asyncio.sleep(0)
    timing = begin_request()
    with asterisk_wait():
        await asyncio.sleep(0.05)
    with pytest.raises(ValueError), asterisk_wait():  # counted even when the wait fails
        await asyncio.sleep(0.05)
        raise ValueError("gone")
    assert 0.09 <= timing.ami_s < 0.5
