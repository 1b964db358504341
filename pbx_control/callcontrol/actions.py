"""AMI actions on live calls. Every value sent is checked here: a uniqueid, an extension, an
organization slug; nothing a client sends reaches a header unchecked."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass

from pbx_control.ami.actions import first_message
from pbx_control.ami.calls import CallModel, Channel
from pbx_control.ami.client import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.ami.events import EventPublisher
from pbx_control.kernel import ids
from pbx_control.kernel.timing import asterisk_wait
from pbx_control.logs import get_logger

log = get_logger("pbx_control.callcontrol")

_SLOT = re.compile(r"^[0-9]{1,4}$")
PARK_CONTEXT = "pbx-park"  # pbx_control/asterisk-config/extensions_callcontrol.conf
PARKED_WAIT_S = 3.0
MIN_PARK_S, MAX_PARK_S = 5, 900


def is_uniqueid(value: str) -> bool:
    return bool(ids.UNIQUEID.fullmatch(value))


def lot_of(slug: str) -> str:
    """The organization's parking lot (created by Park() from the template on first use), named
    like its dialplan context."""
    return ids.org_context(slug)


@dataclass(frozen=True)
class Parked:
    slot: str
    caller_number: str
    caller_name: str
    timeout_s: int  # seconds left before it comes back to the one who parked it


class CallControl:
    """Hang up, transfer and park calls through the one AMI login.

    Every park in the organization's lots (from the API, a phone's blind transfer to the lot) is
    told as `call.parked`, a pick-up as `call.retrieved`, with `call` {id: the parked party, slot,
    caller_number, caller_name, peer: the channel that picked it up (retrieved), else null}: the
    hub shows them to whoever sees the parked party's call (the one who parked it) and to the one
    who picked it up."""

    def __init__(self, ami: AmiClient, calls: CallModel, publisher: EventPublisher | None = None) -> None:
        self._ami = ami
        self._calls = calls
        self._publisher = publisher
        self._parking: dict[str, asyncio.Future[dict[str, str]]] = {}
        ami.on_event("ParkedCall", self._on_parked)
        ami.on_event("UnParkedCall", self._on_unparked)

    def _on_parked(self, event: Mapping[str, object]) -> None:
        future = self._parking.get(str(event.get("ParkeeUniqueid", "")))
        if future is not None and not future.done():
            future.set_result({k: str(v) for k, v in event.items()})
        self._publish_park("call.parked", event, None)

    def _on_unparked(self, event: Mapping[str, object]) -> None:
        self._publish_park("call.retrieved", event, str(event.get("RetrieverUniqueid", "")) or None)

    def _publish_park(self, kind: str, event: Mapping[str, object], by: str | None) -> None:
        lot = str(event.get("ParkingLot", ""))
        slot = str(event.get("ParkingSpace", ""))
        parkee = str(event.get("ParkeeUniqueid", ""))
        if self._publisher is None or not lot.startswith("org-") or not ids.is_slug(lot[4:]):
            return
        log.info(kind, call=parkee, slot=slot, organization=lot[4:])
        self._publisher.publish(
            {
                "type": kind,
                "organization": lot[4:],
                "call": {
                    "id": parkee,
                    "slot": slot if _SLOT.fullmatch(slot) else None,
                    "caller_number": str(event.get("ParkeeCallerIDNum", "")),
                    "caller_name": str(event.get("ParkeeCallerIDName", "")),
                    "peer": by,
                },
            }
        )

    async def hangup(self, channel: Channel) -> None:
        await self._ami.send({"Action": "Hangup", "Channel": channel.name, "Cause": 16})

    async def blind_transfer(self, channel: Channel, organization: str, extension: str) -> None:
        """The other party of `channel` goes to `extension` (an extension, or an outside number in
        E.164) as if it had dialled it from the organization (org-<slug> context: routed by the
        control service, with its fallback)."""
        if not (ids.EXTENSION.fullmatch(extension) or ids.E164.fullmatch(extension)):
            raise ValueError(f"invalid transfer target {extension!r}")
        await self._ami.send(
            {
                "Action": "BlindTransfer",
                "Channel": channel.name,
                "Context": lot_of(organization),  # = the org-<slug> dialplan context
                "Exten": extension,
            }
        )

    async def park(self, peer: Channel, organization: str, parked_by: str, timeout_s: int) -> dict[str, str]:
        """Park `peer` (the other party of the asker's call) in the organization's lot; returns the
        ParkedCall event (ParkingSpace is the slot). Unpicked after `timeout_s`, it rings `parked_by`."""
        if not ids.EXTENSION.fullmatch(parked_by):
            raise ValueError(f"invalid extension {parked_by!r}")
        if not MIN_PARK_S <= timeout_s <= MAX_PARK_S:
            raise ValueError(f"park timeout out of range: {timeout_s}")
        lot = lot_of(organization)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, str]] = loop.create_future()
        self._parking[peer.uniqueid] = future
        try:
            for name, value in (("PBX_PARKED_BY", parked_by), ("PBX_PARK_TIMEOUT", str(timeout_s))):
                await self._ami.send(
                    {"Action": "Setvar", "Channel": peer.name, "Variable": name, "Value": value}
                )
            await self._ami.send(
                {
                    "Action": "Redirect",
                    "Channel": peer.name,
                    "Context": PARK_CONTEXT,
                    "Exten": lot,
                    "Priority": 1,
                }
            )
            with asterisk_wait():  # Park() runs in the channel's own dialplan, at Asterisk's pace
                return await asyncio.wait_for(future, PARKED_WAIT_S)
        finally:
            self._parking.pop(peer.uniqueid, None)

    async def parked(self, organization: str) -> list[Parked]:
        """The calls parked in the organization's lot now (none when the lot does not exist)."""
        lot = lot_of(organization)
        try:
            response = await self._ami.send({"Action": "ParkedCalls", "ParkingLot": lot}, timeout_s=5)
        except AmiError as exc:
            if "could not be found" in exc.message.lower():  # a dynamic lot exists while in use
                return []
            raise
        events = response if isinstance(response, list) else [first_message(response)]
        out = []
        for ev in events:
            if str(ev.get("Event", "")).lower() != "parkedcall" or ev.get("ParkingLot") != lot:
                continue
            slot = str(ev.get("ParkingSpace", ""))
            if not _SLOT.fullmatch(slot):
                continue
            out.append(
                Parked(
                    slot=slot,
                    caller_number=str(ev.get("ParkeeCallerIDNum", "")),
                    caller_name=str(ev.get("ParkeeCallerIDName", "")),
                    timeout_s=int(str(ev.get("ParkingTimeout", "0")) or 0),
                )
            )
        return sorted(out, key=lambda p: int(p.slot))
