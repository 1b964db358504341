"""Announced transfers: Asterisk does the calls, this keeps each transfer's state and tells apps.

Start: the initiator's channel gets PBX_ORG, __PBX_XFER (the id) and __PBX_XFER_PEER (the
transferee's uniqueid, inherited by the recipient's leg); one Redirect sends the transferee to
[pbx-xfer-hold] and the initiator's channel to [pbx-xfer-consult],<to>, which routes the call as if
the user had dialled it. Nobody gets DTMF transfer features: everything is AMI and dialplan.
What follows a hang-up is done by the dialplan itself, so a restart of the service leaves no
transfer half done; in memory only, a restart forgets the transfers (none is reported after it).
After an AMI reconnection (Asterisk restarted) a transfer whose parties' channels are gone ends as
abandoned, reason channel_gone (`reconcile`, run after the call model's re-derive).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.ami.client import AmiClient
from pbx_control.ami.errors import AmiUnavailable
from pbx_control.ami.events import EventPublisher
from pbx_control.callcontrol.transfer_state import FINAL, Action, Input, State, Step, step
from pbx_control.kernel import ids
from pbx_control.logs import get_logger

log = get_logger("pbx_control.callcontrol.transfer")

HOLD_CONTEXT = "pbx-xfer-hold"  # extensions_callcontrol.conf
CONSULT_CONTEXT = "pbx-xfer-consult"
BACK_CONTEXT = "pbx-xfer-back"
JOIN_CONTEXT = "pbx-xfer-join"
BACK_EVENT = "PbxTransferBack"  # UserEvent of [pbx-xfer-back]
KEEP_FINISHED = 500  # finished transfers still answered by GET


class TransferConflict(Exception):
    """A transfer already runs on this call, or the operation does not fit its state."""


def is_destination(text: str) -> bool:
    return bool(ids.EXTENSION.fullmatch(text) or ids.NUMBER.fullmatch(text))


@dataclass(frozen=True)
class Transfer:
    id: int
    organization: str
    to: str
    initiator: str  # uniqueid of the user's channel (the call's id)
    initiator_name: str
    initiator_endpoint: str
    transferee: str
    transferee_name: str
    state: State = State.READY
    recipient: str | None = None  # uniqueid of the recipient's leg, once answered
    recipient_name: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "call": self.initiator,
            "to": self.to,
            "state": str(self.state),
            "reason": self.reason,
            "transferee": self.transferee,
            "recipient": self.recipient,
        }


class Transfers:
    """The announced transfers of this service (see the module docstring)."""

    def __init__(self, ami: AmiClient, calls: CallModel, publisher: EventPublisher | None) -> None:
        self._ami = ami
        self._calls = calls
        self._publisher = publisher
        self._ids = itertools.count(int(time.time() * 1000) % 10**12)
        self._by_id: dict[int, Transfer] = {}
        self._active: dict[str, int] = {}  # uniqueid of initiator or transferee -> transfer id
        self._locks: dict[str, asyncio.Lock] = {}
        ami.on_event("DialEnd", self._on_dial_end)
        ami.on_event("UserEvent", self._on_user_event)
        ami.on_event("Hangup", self._on_hangup)
        # After the call model's re-derive (registered before us, so run before us).
        ami.on_ready(self.reconcile)

    # -- queries -----------------------------------------------------------------------------------

    def get(self, transfer_id: int) -> Transfer | None:
        return self._by_id.get(transfer_id)

    def active_on(self, uniqueid: str) -> Transfer | None:
        tid = self._active.get(uniqueid)
        return self._by_id.get(tid) if tid is not None else None

    # -- API operations ----------------------------------------------------------------------------

    def _lock(self, initiator: str) -> asyncio.Lock:
        return self._locks.setdefault(initiator, asyncio.Lock())

    async def start(self, initiator: Channel, transferee: Channel, organization: str, to: str) -> Transfer:
        if not is_destination(to):
            raise ValueError(f"invalid destination {to!r}")
        context = ids.org_context(organization)  # checks the slug
        del context
        async with self._lock(initiator.uniqueid):
            if initiator.uniqueid in self._active or transferee.uniqueid in self._active:
                raise TransferConflict("a transfer of this call is already under way")
            transfer = Transfer(
                id=next(self._ids),
                organization=organization,
                to=to,
                initiator=initiator.uniqueid,
                initiator_name=initiator.name,
                initiator_endpoint=initiator.endpoint or "",
                transferee=transferee.uniqueid,
                transferee_name=transferee.name,
            )
            self._put(transfer)
            try:
                for name, value in (
                    ("PBX_ORG", organization),
                    ("__PBX_XFER", str(transfer.id)),
                    ("__PBX_XFER_PEER", transferee.uniqueid),
                    ("PBX_XFER_DONE", ""),
                ):
                    await self._setvar(initiator.name, name, value)
                await self._ami.send(
                    {
                        "Action": "Redirect",
                        "Channel": transferee.name,
                        "Context": HOLD_CONTEXT,
                        "Exten": "s",
                        "Priority": 1,
                        "ExtraChannel": initiator.name,
                        "ExtraContext": CONSULT_CONTEXT,
                        "ExtraExten": to,
                        "ExtraPriority": 1,
                    }
                )
            except BaseException:
                self._forget(transfer)
                raise
            return self._advance(transfer.id, Input.STARTED) or transfer

    async def complete(self, transfer_id: int) -> Transfer:
        return await self._operate(transfer_id, Input.COMPLETE)

    async def cancel(self, transfer_id: int) -> Transfer:
        return await self._operate(transfer_id, Input.CANCEL)

    async def _operate(self, transfer_id: int, given: Input) -> Transfer:
        transfer = self._by_id.get(transfer_id)
        if transfer is None:
            raise KeyError(transfer_id)
        async with self._lock(transfer.initiator):
            transfer = self._by_id[transfer_id]
            found = step(transfer.state, given)
            if found is None:
                raise TransferConflict(f"a transfer in state {transfer.state} cannot be {given}d")
            if not self._ami.connected:  # 503 before anything changes (Asterisk away)
                raise AmiUnavailable("not connected to the Asterisk AMI", action=str(given))
            before = transfer
            # The new state first: what Asterisk reports while it acts must find it.
            transfer = self._apply(transfer, found, tell=False)
            try:
                await self._act(found.action, before)
            except BaseException:
                # Refused, not answered in time, or AMI gone: the transfer stays as it was (unless
                # what Asterisk reported meanwhile moved it on), and nothing is told.
                if self._by_id.get(before.id) == transfer:
                    self._put(before)
                raise
            self._tell(transfer, found)
            return transfer

    async def _act(self, action: Action, t: Transfer) -> None:
        if action is Action.JOIN and t.recipient is not None:
            recipient = self._calls.get(t.recipient)
            await self._setvar(t.initiator_name, "PBX_XFER_DONE", "1")
            name = recipient.name if recipient is not None else t.recipient_name or ""
            await self._redirect(name, JOIN_CONTEXT, "s")
        elif action is Action.BLIND:
            await self._setvar(t.initiator_name, "PBX_XFER_DONE", "1")
            await self._redirect(t.transferee_name, ids.org_context(t.organization), t.to)
            await self._ami.send({"Action": "Hangup", "Channel": t.initiator_name, "Cause": 16})
        elif action is Action.STOP_RINGING:
            await self._redirect(t.initiator_name, BACK_CONTEXT, "cancel")
        elif action is Action.HANGUP_RECIPIENT and t.recipient is not None:
            recipient = self._calls.get(t.recipient)
            name = recipient.name if recipient is not None else t.recipient_name or ""
            await self._ami.send({"Action": "Hangup", "Channel": name, "Cause": 16})

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        await self._ami.send({"Action": "Setvar", "Channel": channel, "Variable": name, "Value": value})

    async def _redirect(self, channel: str, context: str, exten: str) -> None:
        await self._ami.send(
            {"Action": "Redirect", "Channel": channel, "Context": context, "Exten": exten, "Priority": 1}
        )

    # -- what Asterisk reports ---------------------------------------------------------------------

    def _on_dial_end(self, event: Mapping[str, object]) -> None:
        transfer = self._initiated_by(str(event.get("Uniqueid", "")))
        if transfer is None or str(event.get("DialStatus", "")) != "ANSWER":
            return
        transfer = replace(
            transfer,
            recipient=str(event.get("DestUniqueid", "")) or None,
            recipient_name=str(event.get("DestChannel", "")) or None,
        )
        self._by_id[transfer.id] = transfer
        self._advance(transfer.id, Input.ANSWERED)

    def _on_user_event(self, event: Mapping[str, object]) -> None:
        if str(event.get("UserEvent", "")) != BACK_EVENT:
            return
        transfer = self._initiated_by(str(event.get("Uniqueid", "")))
        if transfer is not None:
            self._advance(transfer.id, Input.RETURNED, str(event.get("Reason", "")))

    def _on_hangup(self, event: Mapping[str, object]) -> None:
        uniqueid = str(event.get("Uniqueid", ""))
        transfer = self.active_on(uniqueid)
        if transfer is None:
            return
        given = Input.INITIATOR_HUNGUP if uniqueid == transfer.initiator else Input.TRANSFEREE_HUNGUP
        self._advance(transfer.id, given)

    def reconcile(self) -> None:
        """After an AMI (re)connection: a transfer whose initiator or transferee is no longer a
        channel of Asterisk's ends (abandoned, channel_gone) instead of staying as a ghost."""
        for transfer_id in sorted(set(self._active.values())):
            transfer = self._by_id.get(transfer_id)
            if transfer is None:
                continue
            if self._calls.get(transfer.initiator) is None or self._calls.get(transfer.transferee) is None:
                self._advance(transfer_id, Input.GONE)

    def _initiated_by(self, uniqueid: str) -> Transfer | None:
        transfer = self.active_on(uniqueid)
        return transfer if transfer is not None and transfer.initiator == uniqueid else None

    # -- state -------------------------------------------------------------------------------------

    def _advance(self, transfer_id: int, given: Input, detail: str = "") -> Transfer | None:
        transfer = self._by_id.get(transfer_id)
        if transfer is None:
            return None
        found = step(transfer.state, given, detail)
        if found is None:
            return None
        return self._apply(transfer, found)

    def _apply(self, transfer: Transfer, found: Step, *, tell: bool = True) -> Transfer:
        transfer = replace(transfer, state=found.state, reason=found.reason or transfer.reason)
        self._by_id[transfer.id] = transfer
        if found.state in FINAL:
            self._finish(transfer)
        if tell:
            self._tell(transfer, found)
        return transfer

    def _tell(self, transfer: Transfer, found: Step) -> None:
        if found.event is not None:
            log.info("transfer." + found.event, transfer=transfer.id, reason=transfer.reason)
            if self._publisher is not None:
                self._publisher.publish(
                    {
                        "type": "transfer." + found.event,
                        "organization": transfer.organization,
                        "transfer": transfer.to_dict(),
                    }
                )

    def _put(self, transfer: Transfer) -> None:
        self._by_id[transfer.id] = transfer
        self._active[transfer.initiator] = transfer.id
        self._active[transfer.transferee] = transfer.id

    def _finish(self, transfer: Transfer) -> None:
        for uniqueid in (transfer.initiator, transfer.transferee):
            if self._active.get(uniqueid) == transfer.id:
                del self._active[uniqueid]
        lock = self._locks.get(transfer.initiator)
        if lock is not None and not lock.locked():
            del self._locks[transfer.initiator]
        while len(self._by_id) > KEEP_FINISHED + len(self._active):
            oldest = next(iter(self._by_id))
            if self._by_id[oldest].state not in FINAL:
                break
            del self._by_id[oldest]

    def _forget(self, transfer: Transfer) -> None:
        self._by_id.pop(transfer.id, None)
        self._finish(transfer)
