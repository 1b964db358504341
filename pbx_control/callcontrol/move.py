"""Move a call to another of my devices ("flytta hit"): the far end stays connected throughout.

The device that takes the call enters [pbx-move] take (extensions_callcontrol.conf) with
PBX_MOVE_PEER (the far end's uniqueid) and PBX_MOVE_OLD (the device's channel that had the call):
from the API by an AMI Originate of that device, or when the user dials *88 on it (the FastAGI
handler `move_here` only sets the two variables). Once answered, dialplan Bridge() pulls the far
end out of its bridge into a new one with the new device: the far end's channel, and so its SIP
dialog, never ends (no BYE, its RTP goes on, now to the new device). The bridge it left dissolves
and the old device's channel is hung up (a BYE to the old device); the service hangs it up too if
it is still there when it sees the far end enter the new bridge.

A call held from the app or on the phone, or under an announced transfer, is not moved (409):
take it back first; nor one that a device already rings to take (409, until it answers or not).
`call.moved` is published when the far end is in the new bridge, with `call`
{id: the new device's channel, from: the old one, peer: the far end, endpoint, from_endpoint}.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pbx_control.ami.actions import PendingAction
from pbx_control.ami.calls import CallModel, Channel
from pbx_control.ami.client import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.ami.events import EventPublisher
from pbx_control.callcontrol.views import peer_of
from pbx_control.kernel import ids
from pbx_control.logs import get_logger

log = get_logger("pbx_control.callcontrol.move")

MOVE_CONTEXT = "pbx-move"  # extensions_callcontrol.conf
MOVE_EVENT = "PbxMove"  # its UserEvent, just before Bridge()
RING_S = 30
KEEP_PENDING = 1000


class MoveInProgress(Exception):
    """A device already rings to take this call."""


@dataclass(frozen=True)
class Pending:
    new: str  # uniqueid of the new device's channel
    old: str
    peer: str


def movable(calls: CallModel, channel: Channel) -> Channel | None:
    """The far end of `channel` when it is an answered two-party call that is not on hold."""
    peer = peer_of(calls, channel)
    if peer is None or channel.on_hold or peer.on_hold or channel.state != "Up":
        return None
    return peer


def call_to_take(calls: CallModel, endpoints: Sequence[str]) -> tuple[Channel, Channel] | None:
    """The call *88 takes: the answered, not held call on one of `endpoints` (the user's other
    devices) that started last, with its far end. Pure: reads the model."""
    found: list[tuple[Channel, Channel]] = []
    for endpoint in endpoints:
        for channel in calls.by_endpoint(endpoint):
            peer = movable(calls, channel)
            if peer is not None and peer.endpoint not in endpoints:
                found.append((channel, peer))
    if not found:
        return None
    return max(found, key=lambda pair: (pair[0].created_at is not None, pair[0].created_at, pair[0].uniqueid))


class Moves:
    """Moves from the API, and what Asterisk reports of every move (the API's and *88's)."""

    def __init__(self, ami: AmiClient, calls: CallModel, publisher: EventPublisher | None) -> None:
        self._ami = ami
        self._calls = calls
        self._publisher = publisher
        self._pending: dict[str, Pending] = {}  # by the new channel's uniqueid
        self._ringing: set[str] = set()  # calls (the old channel) a device rings to take
        self._tasks: set[asyncio.Task[None]] = set()
        ami.on_event("UserEvent", self._on_user_event)
        ami.on_event("BridgeEnter", self._on_bridge_enter)
        ami.on_event("Hangup", self._on_hangup)

    def move(self, old: Channel, peer: Channel, endpoint: str, organization: str) -> None:
        """Ring `endpoint`; answered, it takes the call from `old` (see the module docstring).
        Returns once Asterisk has the request; the ringing and the answer happen after."""
        if not ids.ENDPOINT.fullmatch(endpoint) or not ids.is_slug(organization):
            raise ValueError(f"invalid endpoint or organization {endpoint!r} {organization!r}")
        for uid in (old.uniqueid, peer.uniqueid):
            if not ids.UNIQUEID.fullmatch(uid):
                raise ValueError(f"invalid uniqueid {uid!r}")
        if old.uniqueid in self._ringing:
            raise MoveInProgress(old.uniqueid)
        number = peer.caller_id_num if ids.NUMBER.fullmatch(peer.caller_id_num) else ""
        name = "".join(ch for ch in peer.caller_id_name if ch.isalnum() or ch in " +-.")[:40]
        pending = self._ami.submit(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{endpoint}",
                "Context": MOVE_CONTEXT,
                "Exten": "take",
                "Priority": "1",
                "CallerID": f'"{name or number or "Call"}" <{number}>',  # the new device shows the far end
                "Account": organization,
                "Variable": [f"PBX_MOVE_PEER={peer.uniqueid}", f"PBX_MOVE_OLD={old.uniqueid}"],
                "Timeout": RING_S * 1000,
                "Async": "true",
            }
        )
        self._ringing.add(old.uniqueid)
        self._spawn(self._watch(pending, old.uniqueid, endpoint))

    async def _watch(self, pending: PendingAction, old: str, endpoint: str) -> None:
        """The Originate ends at the answer (or no answer): only logged, the call stays where it was."""
        try:
            await pending.result()
        except AmiError as exc:
            log.info("call.move_not_answered", call=old, endpoint=endpoint, reason=exc.message)
        except Exception as exc:  # AMI gone, timeout: the call stays on the old device
            log.info("call.move_failed", call=old, endpoint=endpoint, reason=str(exc))
        finally:
            self._ringing.discard(old)

    # -- what Asterisk reports ---------------------------------------------------------------------

    def _on_user_event(self, event: Mapping[str, object]) -> None:
        if str(event.get("UserEvent", "")) != MOVE_EVENT:
            return
        new, old, peer = (str(event.get(k, "")) for k in ("Uniqueid", "Old", "Peer"))
        if not all(ids.UNIQUEID.fullmatch(u) for u in (new, old, peer)):
            return
        if len(self._pending) >= KEEP_PENDING:
            self._pending.pop(next(iter(self._pending)))
        self._pending[new] = Pending(new, old, peer)

    def _on_bridge_enter(self, event: Mapping[str, object]) -> None:
        """The far end or the new device entered a bridge: with both in it, the call has moved."""
        entered = str(event.get("Uniqueid", ""))
        for pending in list(self._pending.values()):
            if entered not in (pending.new, pending.peer):
                continue
            new, peer = self._calls.get(pending.new), self._calls.get(pending.peer)
            if new is None or peer is None or new.bridge_id is None or new.bridge_id != peer.bridge_id:
                continue
            del self._pending[pending.new]
            old = self._calls.get(pending.old)
            if old is not None:
                self._spawn(self._hang_up(old.name))
            self._publish(new, peer, pending.old, old)

    def _on_hangup(self, event: Mapping[str, object]) -> None:
        self._pending.pop(str(event.get("Uniqueid", "")), None)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hang_up(self, name: str) -> None:
        try:
            await self._ami.send({"Action": "Hangup", "Channel": name, "Cause": 16})
        except AmiError:
            pass  # already gone: the bridge it was in dissolved
        except Exception as exc:
            log.warning("call.move_hangup_failed", channel=name, reason=str(exc))

    def _publish(self, new: Channel, peer: Channel, old_id: str, old: Channel | None) -> None:
        organization = new.organization or (old.organization if old is not None else None)
        log.info("call.moved", call=new.uniqueid, moved_from=old_id, organization=organization)
        if self._publisher is None or not organization:
            return
        self._publisher.publish(
            {
                "type": "call.moved",
                "organization": organization,
                "call": {
                    "id": new.uniqueid,
                    "endpoint": new.endpoint,
                    "from": old_id,
                    "from_endpoint": old.endpoint if old is not None else None,
                    "peer": peer.uniqueid,
                },
            }
        )
