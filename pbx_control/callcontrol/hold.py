"""Hold, resume and the keypad on a live call, through AMI.

Hold takes both parties out of their bridge (one Redirect with ExtraChannel): the other party hears
music on hold ([pbx-hold] held), the user's device waits in silence ([pbx-hold] holder). Each knows
the other by name (PBX_HOLD_OTHER), so if either hangs up while held, its hangup handler ends the
other; the holder also keeps the held party's uniqueid (PBX_HOLD_PEER), so a resume works after a
restart of this service. Resume bridges the two again (AMI Bridge). A hold done on the phone
itself (re-INVITE) is not this: Asterisk plays the music itself and reports Hold/Unhold events,
which the call model keeps (Channel.on_hold).

Hold also keeps its own registry of the calls it put on hold (the user's channel -> the held
party), with one lock per call: the live model's dialplan location of a channel lags behind (or,
without dialplan events on the AMI login, never shows) the Redirect, so the registry is what says
"held by the app". An entry goes on resume, when either channel hangs up, and when the model is
re-derived after an AMI reconnect (then the re-derived dialplan location, from CoreShowChannels,
still shows a hold that outlived the connection).

A phone's hold that outlived an AMI reconnect: CoreShowChannels does not say whether a channel is
on hold, but chan_pjsip sets the device state of the *held* party's device to ONHOLD while the
phone holds (and keeps it there while every call of that device is held). After each re-derive,
DeviceStateList names those devices, and the channel bridged with each of their channels (the one
whose phone holds) is marked on hold again. Not re-derived: a held party whose device has another
call that is not held (a trunk with several calls, a phone with two lines): its device state is
then INUSE; the call shows held again at its next Hold/Unhold event.

Both kinds of hold are told on the events hub: `call.held` and `call.resumed`, with `call`
{id: the held call's channel, peer, endpoint, by: "app" | "phone"} (the hub shows them to whoever
sees that call).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping

from pbx_control.ami.actions import first_message
from pbx_control.ami.calls import CallModel, Channel
from pbx_control.ami.client import AmiClient
from pbx_control.ami.events import EventPublisher
from pbx_control.kernel import ids
from pbx_control.logs import get_logger

log = get_logger("pbx_control.callcontrol.hold")

HOLD_CONTEXT = "pbx-hold"  # extensions_callcontrol.conf
MAX_DIGITS = 32
DIGITS = re.compile(r"[0-9*#A-D]{1,%d}" % MAX_DIGITS)  # noqa: UP031
DIGIT_MS = 200


def in_hold_dialplan(channel: Channel) -> bool:
    """The user's side of a call held from the app as the model shows it: waiting in [pbx-hold]
    holder (after resume the channel keeps that dialplan location while bridged)."""
    return channel.context == HOLD_CONTEXT and channel.exten == "holder" and channel.bridge_id is None


def _bridged_with(calls: CallModel, channel: Channel) -> Channel | None:
    if channel.bridge_id is None:
        return None
    return next((c for c in calls.in_bridge(channel.bridge_id) if c.uniqueid != channel.uniqueid), None)


class Hold:
    def __init__(self, ami: AmiClient, calls: CallModel, publisher: EventPublisher | None = None) -> None:
        self._ami = ami
        self._calls = calls
        self._publisher = publisher
        self._held: dict[str, str] = {}  # the user's channel's uniqueid -> the held party's
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[int]] = set()
        calls.on_reset(self.forget_all)
        calls.on_reset(self._after_reset)
        if publisher is not None:
            ami.on_event("Hold", self._on_phone_hold)
            ami.on_event("Unhold", self._on_phone_hold)

    def _publish(self, kind: str, mine: Channel, peer: Channel | None, by: str) -> None:
        if self._publisher is None or not mine.organization:
            return
        self._publisher.publish(
            {
                "type": kind,
                "organization": mine.organization,
                "call": {
                    "id": mine.uniqueid,
                    "endpoint": mine.endpoint,
                    "peer": peer.uniqueid if peer is not None else None,
                    "by": by,
                },
            }
        )

    def _on_phone_hold(self, event: Mapping[str, object]) -> None:
        """A phone held (re-INVITE sendonly/inactive) or took back a call (the model has applied
        the event already: it follows every event and subscribed first)."""
        channel = self._calls.get(str(event.get("Uniqueid", "")))
        if channel is None:
            return
        peer = None
        if channel.bridge_id is not None:
            peer = next((c for c in self._calls.in_bridge(channel.bridge_id) if c is not channel), None)
        held = str(event.get("Event", "")).lower() == "hold"
        self._publish("call.held" if held else "call.resumed", channel, peer, "phone")

    def forget_all(self) -> None:
        self._held.clear()

    def _after_reset(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a model reset outside the service (tests of the model alone)
            return
        task = loop.create_task(self.rederive_phone_holds())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def rederive_phone_holds(self) -> int:
        """Mark again the calls a phone holds (see the module docstring); returns how many."""
        try:
            response = await self._ami.send({"Action": "DeviceStateList"}, timeout_s=5)
        except Exception as exc:  # AMI gone again, or an old Asterisk: nothing to re-derive
            log.warning("hold.rederive_failed", error=str(exc))
            return 0
        events = response if isinstance(response, list) else [first_message(response)]
        marked = 0
        for ev in events:
            device, state = str(ev.get("Device", "")), str(ev.get("State", ""))
            if str(ev.get("Event", "")) != "DeviceStateChange" or state != "ONHOLD":
                continue
            if not device.startswith("PJSIP/"):
                continue
            for held in self._calls.by_endpoint(device.removeprefix("PJSIP/")):
                holder = _bridged_with(self._calls, held)
                if holder is not None and not holder.on_hold and self._calls.mark_on_hold(holder.uniqueid):
                    marked += 1
        if marked:
            log.info("hold.rederived", calls=marked)
        return marked

    def lock(self, channel: Channel) -> asyncio.Lock:
        """One lock per call (the user's channel): a hold and a resume of it never interleave."""
        self._prune()
        return self._locks.setdefault(channel.uniqueid, asyncio.Lock())

    def _prune(self) -> None:
        for mine, peer in list(self._held.items()):
            if self._calls.get(mine) is None or self._calls.get(peer) is None:
                del self._held[mine]
        for uniqueid, lock in list(self._locks.items()):
            if self._calls.get(uniqueid) is None and not lock.locked():
                del self._locks[uniqueid]

    def held_by_app(self, channel: Channel) -> bool:
        """`channel` (the user's side) is a call this service holds, or the model shows it in the
        hold dialplan (a hold from before an AMI reconnect)."""
        peer = self._held.get(channel.uniqueid)
        if peer is not None:
            if self._calls.get(peer) is not None:
                return True
            del self._held[channel.uniqueid]  # the held party hung up
        return in_hold_dialplan(channel)

    def is_held(self, channel: Channel) -> bool:
        """On hold, from the app or on the phone (re-INVITE)."""
        return channel.on_hold or self.held_by_app(channel)

    @property
    def ami(self) -> AmiClient:
        return self._ami

    async def _setvar(self, channel: Channel, name: str, value: str) -> None:
        await self._ami.send({"Action": "Setvar", "Channel": channel.name, "Variable": name, "Value": value})

    async def hold(self, mine: Channel, peer: Channel) -> None:
        """`peer` hears music; `mine` (the user's device) waits until resume."""
        await self._setvar(mine, "PBX_HOLD_PEER", peer.uniqueid)
        await self._setvar(mine, "PBX_HOLD_OTHER", peer.name)
        await self._setvar(peer, "PBX_HOLD_OTHER", mine.name)
        await self._ami.send(
            {
                "Action": "Redirect",
                "Channel": peer.name,
                "Context": HOLD_CONTEXT,
                "Exten": "held",
                "Priority": 1,
                "ExtraChannel": mine.name,
                "ExtraContext": HOLD_CONTEXT,
                "ExtraExten": "holder",
                "ExtraPriority": 1,
            }
        )
        self._held[mine.uniqueid] = peer.uniqueid
        self._publish("call.held", mine, peer, "app")

    async def held_peer(self, mine: Channel) -> Channel | None:
        """The party `mine` holds: from the registry, else from its channel variable (which
        survives a restart of this service)."""
        known = self._calls.get(self._held.get(mine.uniqueid, ""))
        if known is not None:
            return known
        response = await self._ami.send(
            {"Action": "Getvar", "Channel": mine.name, "Variable": "PBX_HOLD_PEER"}
        )
        uniqueid = str(first_message(response).get("Value", "") or "")
        peer = self._calls.get(uniqueid) if ids.UNIQUEID.fullmatch(uniqueid) else None
        return peer if peer is not None and peer.context == HOLD_CONTEXT and peer.bridge_id is None else None

    async def resume(self, mine: Channel, peer: Channel) -> None:
        # The hangup handlers end the other only while held.
        for channel in (mine, peer):
            await self._setvar(channel, "PBX_HOLD_OTHER", "")
        await self._setvar(mine, "PBX_HOLD_PEER", "")
        await self._ami.send({"Action": "Bridge", "Channel1": mine.name, "Channel2": peer.name, "Tone": "no"})
        self._held.pop(mine.uniqueid, None)
        self._publish("call.resumed", mine, peer, "app")

    async def send_digits(self, peer: Channel, digits: str) -> None:
        """Play `digits` to the far end (RFC 4733 events on its RTP), one after the other."""
        if not DIGITS.fullmatch(digits):
            raise ValueError(f"invalid digits {digits!r}")
        for digit in digits:
            await self._ami.send(
                {"Action": "PlayDTMF", "Channel": peer.name, "Digit": digit, "Duration": DIGIT_MS}
            )
