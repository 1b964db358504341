"""Hold, resume and the keypad on a live call, through AMI.

Hold takes both parties out of their bridge (one Redirect with ExtraChannel): the other party hears
music on hold ([pbx-hold] held), the user's device waits in silence ([pbx-hold] holder). Each knows
the other by name (PBX_HOLD_OTHER), so if either hangs up while held, its hangup handler ends the
other; the holder also keeps the held party's uniqueid (PBX_HOLD_PEER), so a resume works after a
restart of this service. Resume bridges the two again (AMI Bridge). A hold done on the phone
itself (re-INVITE) is not this: Asterisk plays the music itself and reports Hold/Unhold events,
which the call model keeps (Channel.on_hold).
"""

from __future__ import annotations

import re

from pbx_control.ami.actions import first_message
from pbx_control.ami.calls import CallModel, Channel
from pbx_control.ami.client import AmiClient
from pbx_control.kernel import ids

HOLD_CONTEXT = "pbx-hold"  # extensions_callcontrol.conf
MAX_DIGITS = 32
DIGITS = re.compile(r"[0-9*#A-D]{1,%d}" % MAX_DIGITS)  # noqa: UP031
DIGIT_MS = 200


def held_by_app(channel: Channel) -> bool:
    """The user's side of a call held from the app: waiting in [pbx-hold] holder (after resume
    the channel keeps that dialplan location while bridged)."""
    return channel.context == HOLD_CONTEXT and channel.exten == "holder" and channel.bridge_id is None


def is_held(channel: Channel) -> bool:
    return channel.on_hold or held_by_app(channel)


class Hold:
    def __init__(self, ami: AmiClient, calls: CallModel) -> None:
        self._ami = ami
        self._calls = calls

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

    async def held_peer(self, mine: Channel) -> Channel | None:
        """The party `mine` holds (from its channel variable: survives a restart of this service)."""
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

    async def send_digits(self, peer: Channel, digits: str) -> None:
        """Play `digits` to the far end (RFC 4733 events on its RTP), one after the other."""
        if not DIGITS.fullmatch(digits):
            raise ValueError(f"invalid digits {digits!r}")
        for digit in digits:
            await self._ami.send(
                {"Action": "PlayDTMF", "Channel": peer.name, "Digit": digit, "Duration": DIGIT_MS}
            )
