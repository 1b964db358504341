"""Ad-hoc conferences on ConfBridge: a two-party call with more people added, and a multi-party
call started from the app. The room is conference `c<id>` (the row in `conferences`, 022);
LiveMeetings follows it like a meeting's room (participants, mute, kick, events `conference.*`).

How a call becomes a conference: one AMI Redirect moves both parties of the call into the room
(the asker's channel as the host, the other party as a participant); their dialogs go on, only
the media now goes through the mix. Everyone added is rung by an Originate of
`Local/<number>@pbx-conf-dial`: that Local channel is routed exactly as a call dialled on the
host's device (FastAGI `conference_dial`: colleagues with their activities and forwards, groups,
outside numbers through the organization's trunk and caller ID); answered, it joins the room.

The rules (README, Multi-party calls): the host is ConfBridge's marked user and every other
participant has end_marked, so when the host leaves, the conference ends for everyone (nobody
stays on the organization's lines without its user, and an invitee who answers after the host left
is not let in). When one participant is left alone and nobody is ringing any more, the service
hangs that last one up. A limit per organization (admins: PUT /conference-settings) counts those
in the room and those ringing.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from pbx_control.ami import AmiClient
from pbx_control.ami.calls import Channel
from pbx_control.ami.errors import AmiError, AmiTimeout, AmiUnavailable
from pbx_control.dialplan.contract import safe_name
from pbx_control.kernel import ids
from pbx_control.kernel.errors import Conflict
from pbx_control.logs import get_logger
from pbx_control.meetings.live import LiveMeetings, Room

log = get_logger(__name__)
DEFAULT_MAX_PARTICIPANTS = 10
RING_S = 30
JOIN_GRACE_S = 2.0  # after an invitee answered, how long its ConfbridgeJoin may take
HOST_CONTEXT = "pbx-conf-host"  # extensions_meetings.conf
JOIN_CONTEXT = "pbx-conf-join"
INVITED_CONTEXT = "pbx-conf-invited"
DIAL_CONTEXT = "pbx-conf-dial"
_DIALABLE = re.compile(r"[1-9][0-9]{1,7}|\+[1-9][0-9]{6,15}")


def room_name(conference_id: int) -> str:
    return f"c{conference_id}"


@dataclass(frozen=True)
class Who:
    """How someone shows in the room (and, for the host, on the phones that ring)."""

    name: str
    number: str
    devices: frozenset[str] = frozenset()  # a colleague's: they see the room's events

    def variables(self) -> list[str]:
        number = self.number if re.fullmatch(r"\+?[0-9]{1,16}", self.number) else ""
        return [f"PBX_CONF_NAME={safe_name(self.name)}", f"PBX_CONF_NUM={number}"]


@dataclass(frozen=True)
class Host:
    organization: str  # slug
    endpoint: str  # the host's device: invitees are routed as if dialled on it
    who: Who
    devices: frozenset[str] = frozenset()  # all of the host's devices (they see the events)


def over_limit(in_room: int, ringing: int, adding: int, limit: int) -> str | None:
    """Why adding `adding` people is refused, or None (pure, for the 409's message)."""
    now = in_room + ringing
    if now + adding <= limit:
        return None
    return (
        f"a conference in this organization may have at most {limit} participants"
        f" ({now} in it or ringing, {adding} more asked)"
    )


class Conferences:
    """Starts ad-hoc conferences and rings people into them through the one AMI login."""

    def __init__(self, ami: AmiClient, live: LiveMeetings) -> None:
        self.ami = ami
        self.live = live
        self.ringing: dict[str, set[int]] = {}  # room -> invitations not in the room yet
        self._tokens = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        live.leave_hooks.append(self._left)

    def size(self, room: str) -> tuple[int, int]:
        """(in the room, ringing)."""
        found = self.live.rooms.get(room)
        return (len(found.participants) if found else 0, len(self.ringing.get(room, ())))

    def check(self, room: str, adding: int, limit: int, *, base: int = 0) -> None:
        in_room, ringing = self.size(room)
        why = over_limit(max(in_room, base), ringing, adding, limit)
        if why is not None:
            raise Conflict(why)

    def in_a_room(self, uniqueid: str) -> str | None:
        for name, room in self.live.rooms.items():
            if uniqueid in room.participants:
                return name
        return None

    async def from_call(self, room: str, host: Host, mine: Channel, peer: Channel, other: Who) -> None:
        """Both parties of the call into the room, `mine` as the host; no dialog ends."""
        me = host.who
        self.live.expect(room, host.organization, host.devices)
        for channel, who in ((mine, me), (peer, other)):
            for var in who.variables():
                name, _, value = var.partition("=")
                await self.ami.send(
                    {"Action": "Setvar", "Channel": channel.name, "Variable": name, "Value": value}
                )
        try:
            await self._redirect(room, mine, peer)
        except Exception:
            self.live.expected.pop(room, None)
            raise

    async def _redirect(self, room: str, mine: Channel, peer: Channel) -> None:
        await self.ami.send(
            {
                "Action": "Redirect",
                "Channel": mine.name,
                "Context": HOST_CONTEXT,
                "Exten": room,
                "Priority": 1,
                "ExtraChannel": peer.name,
                "ExtraContext": JOIN_CONTEXT,
                "ExtraExten": room,
                "ExtraPriority": 1,
            }
        )

    def invite(self, room: str, host: Host, number: str, who: Who) -> None:
        """Ring `number` (an extension or E.164, checked by the caller) into the room; counted as
        ringing until it answers and joins, or gives up."""
        if not _DIALABLE.fullmatch(number) or not ids.ENDPOINT.fullmatch(host.endpoint):
            raise ValueError(f"not dialable {number!r}")
        token = next(self._tokens)
        self.ringing.setdefault(room, set()).add(token)
        self.live.audience.setdefault(room, set()).update(who.devices)
        self._spawn(self._ring(room, host, number, who, token))

    async def _ring(self, room: str, host: Host, number: str, who: Who, token: int) -> None:
        answered = await self._originate(
            {
                "Action": "Originate",
                "Channel": f"Local/{number}@{DIAL_CONTEXT}/n",
                "Context": INVITED_CONTEXT,
                "Exten": room,
                "Priority": "1",
                "CallerID": f'"{safe_name(host.who.name) or host.who.number}" <{host.who.number}>',
                "Account": host.organization,
                "Variable": [
                    f"PBX_ORG={host.organization}",
                    f"PBX_CONF_FROM={host.endpoint}",
                    *who.variables(),
                ],
                "Timeout": RING_S * 1000,
                "Async": "true",
            },
            room,
        )
        if answered:
            asyncio.get_running_loop().call_later(JOIN_GRACE_S, self._done, room, token)
        else:
            self._done(room, token)

    def start(self, room: str, host: Host, invitees: Sequence[tuple[str, Who]]) -> None:
        """A multi-party call: the host's device rings first; when it answers (it is in the room),
        everyone else rings at once."""
        if not ids.ENDPOINT.fullmatch(host.endpoint):
            raise ValueError(f"invalid endpoint {host.endpoint!r}")
        self.live.expect(room, host.organization, host.devices)
        token = next(self._tokens)
        self.ringing.setdefault(room, set()).add(token)  # the host, until it answers
        for number, _ in invitees:
            if not _DIALABLE.fullmatch(number):
                raise ValueError(f"not dialable {number!r}")
        self._spawn(self._start(room, host, invitees, token))

    async def _start(self, room: str, host: Host, invitees: Sequence[tuple[str, Who]], token: int) -> None:
        answered = await self._originate(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{host.endpoint}",
                "Context": HOST_CONTEXT,
                "Exten": room,
                "Priority": "1",
                "CallerID": f'"Konferens" <{room}>',
                "Account": host.organization,
                "Variable": host.who.variables(),
                "Timeout": RING_S * 1000,
                "Async": "true",
            },
            room,
        )
        if answered:
            for number, who in invitees:
                self.invite(room, host, number, who)
        else:
            self.live.expected.pop(room, None)
        self._done(room, token)

    async def _originate(self, action: dict[str, object], room: str) -> bool:
        try:
            response = await self.ami.send(action)
        except (AmiError, AmiTimeout, AmiUnavailable) as exc:
            log.info("conference.not_answered", room=room, result=str(exc))
            return False
        messages = response if isinstance(response, list) else [response]
        return not any(str(m.get("Response", "")).lower() == "failure" for m in messages)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _done(self, room: str, token: int) -> None:
        waiting = self.ringing.get(room)
        if waiting is not None:
            waiting.discard(token)
            if not waiting:
                del self.ringing[room]
        self._alone(room)

    def _left(self, room: Room) -> None:
        if room.kind == "conference":
            self._alone(room.name)

    def _alone(self, name: str) -> None:
        """One participant left in a conference and nobody ringing: hang that one up."""
        room = self.live.rooms.get(name)
        if room is None or len(room.participants) != 1 or self.ringing.get(name):
            return
        (last,) = room.participants.values()
        log.info("conference.alone", room=name, participant=last.id)
        self._spawn(self._kick(name, last.channel))

    async def _kick(self, name: str, channel: str) -> None:
        try:
            await self.ami.send({"Action": "ConfbridgeKick", "Conference": name, "Channel": channel})
        except (AmiError, AmiTimeout, AmiUnavailable) as exc:
            log.info("conference.kick_failed", room=name, result=str(exc))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
