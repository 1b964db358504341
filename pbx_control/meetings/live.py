"""The live state of meeting rooms, from AMI's Confbridge* events, and the host's actions on them.

A room is ConfBridge conference `m<meeting id>` (a meeting) or `c<conference id>` (an ad-hoc
conference: a call with more people added, a multi-party call; meetings/conferences.py). Each
participant gets a small number within its room (the API's participant id). Every change is
published on the events bus, in the order AMI reported it, for the organization of the room, as
`<kind>.started`, `<kind>.participant_joined`, `<kind>.participant_left`,
`<kind>.participant_talking`, `<kind>.participant_muted`, `<kind>.locked`, `<kind>.ended` where
kind is `meeting` or `conference` (the body names the room as {"meeting": {"id", ...}} or
{"conference": {...}}). Their audience (who of a plain user's devices may see them): the
participants' own devices and the owner's; operators and admins see all of their organization's.

After an AMI (re)connect the rooms are rebuilt from ConfbridgeListRooms and ConfbridgeList, so no
stale participant survives a restart of Asterisk.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from panoramisk.message import Message

from pbx_control.ami import AmiClient, EventPublisher
from pbx_control.dialplan.contract import safe_name
from pbx_control.kernel import ids
from pbx_control.kernel.clock import Clock
from pbx_control.kernel.errors import Conflict, NotFound
from pbx_control.logs import get_logger

log = get_logger(__name__)
ROOM = re.compile(r"([mc])([0-9]{1,18})")
KINDS = {"m": "meeting", "c": "conference"}
_PJSIP = re.compile(r"PJSIP/([a-z][a-z0-9_]{2,63})-[0-9a-f]+")
_CONFERENCE_OWNER = """SELECT o.slug,
            coalesce(array_agg(d.sip_username) FILTER (WHERE d.id IS NOT NULL), '{}') AS eps
            FROM conferences c JOIN organizations o ON o.id = c.organization_id
            LEFT JOIN devices d ON d.user_id = c.owner_user_id WHERE c.id = $1 GROUP BY o.slug"""
_OWNER = """SELECT o.slug, coalesce(array_agg(d.sip_username) FILTER (WHERE d.id IS NOT NULL), '{}') AS eps
            FROM meetings m JOIN organizations o ON o.id = m.organization_id
            LEFT JOIN devices d ON d.user_id = m.owner_user_id WHERE m.id = $1 GROUP BY o.slug"""


@dataclass
class Participant:
    id: int
    uniqueid: str
    channel: str
    name: str
    number: str
    joined_at: datetime
    host: bool
    talking: bool = False
    muted: bool = False

    @property
    def endpoint(self) -> str | None:
        m = _PJSIP.fullmatch(self.channel)
        return m.group(1) if m else None

    def to_dict(self, *, iso: bool = False) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "number": self.number,
            "joined_at": self.joined_at.isoformat() if iso else self.joined_at,
            "host": self.host,
            "talking": self.talking,
            "muted": self.muted,
        }


@dataclass
class Room:
    name: str  # the ConfBridge conference: m<meeting id> or c<conference id>
    organization: str
    started_at: datetime
    locked: bool = False
    owner_endpoints: frozenset[str] = frozenset()
    participants: dict[str, Participant] = field(default_factory=dict)  # by uniqueid
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # events from before the room's organization was known (ConfbridgeStart names no channel)
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    ever: set[str] = field(default_factory=set)  # the devices that were in the room (for its end)

    def by_id(self, participant_id: int) -> Participant:
        for p in self.participants.values():
            if p.id == participant_id:
                return p
        raise NotFound("no such participant in the meeting")

    @property
    def kind(self) -> str:
        return KINDS[self.name[0]]

    @property
    def ref(self) -> int:
        """The meeting's or the conference's id."""
        return int(self.name[1:])


def _flag(value: object) -> bool:
    return str(value).lower() in ("yes", "on", "true", "1")


class LiveMeetings:
    def __init__(self, pool: asyncpg.Pool, publisher: EventPublisher | None, clock: Clock) -> None:
        self.pool = pool
        self.publisher = publisher
        self.clock = clock
        self.rooms: dict[str, Room] = {}  # by ConfBridge conference name
        self.ami: AmiClient | None = None
        # called after a participant left a room that goes on (meetings/conferences.py)
        self.leave_hooks: list[Callable[[Room], None]] = []
        # rooms about to start whose organization and owner's devices are known (conferences)
        self.expected: dict[str, tuple[str, frozenset[str]]] = {}
        # devices that see a room's events beyond its participants' and owner's: the colleagues
        # rung into a conference (their Local channel in the room names no device)
        self.audience: dict[str, set[str]] = {}

    def install(self, ami: AmiClient) -> None:
        self.ami = ami
        ami.on_event("Confbridge*", self.apply)
        ami.on_ready(self.rederive)

    # --- events -------------------------------------------------------------------------------

    def apply(self, event: Message) -> object:
        """One AMI event; a coroutine only when a new room's owner must be looked up."""
        name = str(event.get("Event", ""))
        m = ROOM.fullmatch(str(event.get("Conference", "")))
        if m is None:
            return None
        key = m.group(0)
        room = self.rooms.get(key)
        if name == "ConfbridgeEnd":
            if room is not None:
                del self.rooms[key]
                self._publish(room, "ended", {})
            self.audience.pop(key, None)
            return None
        fresh = room is None
        known = None
        if room is None:
            room = Room(key, str(event.get("AccountCode", "")), self.clock())
            if (known := self.expected.pop(key, None)) is not None:
                room.organization, room.owner_endpoints = known
            self.rooms[key] = room
            self._publish(room, "started", {})
        uniqueid = str(event.get("Uniqueid", ""))
        if name == "ConfbridgeJoin":
            self._join(room, event)
        elif name == "ConfbridgeLeave":
            p = room.participants.pop(uniqueid, None)
            if p is not None:
                self._publish(room, "participant_left", {"participant": p.to_dict(iso=True)}, extra=p)
                for hook in self.leave_hooks:
                    hook(room)
        elif name == "ConfbridgeTalking":
            self._change(room, uniqueid, "talking", _flag(event.get("TalkingStatus")))
        elif name in ("ConfbridgeMute", "ConfbridgeUnmute"):
            self._change(room, uniqueid, "muted", name == "ConfbridgeMute")
        elif name in ("ConfbridgeLock", "ConfbridgeUnlock"):
            room.locked = name == "ConfbridgeLock"
            self._publish(room, "locked", {"locked": room.locked})
        return self._owner(room) if fresh and known is None else None

    def expect(self, name: str, organization: str, owner_endpoints: frozenset[str]) -> None:
        """The room `name` is about to start: its events go to the owner's devices from the first."""
        self.expected[name] = (organization, owner_endpoints)

    def _join(self, room: Room, event: Message) -> Participant:
        uniqueid = str(event.get("Uniqueid", ""))
        newly = not room.organization
        if newly:
            room.organization = str(event.get("AccountCode", ""))
        p = room.participants.get(uniqueid)
        if p is None:
            p = Participant(
                id=next(room.numbers),
                uniqueid=uniqueid,
                channel=str(event.get("Channel", "")),
                name=str(event.get("CallerIDName", "") or ""),
                number=str(event.get("CallerIDNum", "") or ""),
                joined_at=self.clock(),
                host=_flag(event.get("Admin")),
                muted=_flag(event.get("Muted")),
            )
            for blank in ("<unknown>", "unknown"):
                p.name, p.number = (
                    ("" if p.name == blank else p.name),
                    ("" if p.number == blank else p.number),
                )
            room.participants[uniqueid] = p
            if newly:  # meeting.started, seen by this first participant too
                self._flush(room)
            self._publish(room, "participant_joined", {"participant": p.to_dict(iso=True)})
        return p

    def _change(self, room: Room, uniqueid: str, what: str, value: bool) -> None:
        p = room.participants.get(uniqueid)
        if p is None or getattr(p, what) == value:
            return
        setattr(p, what, value)
        self._publish(room, f"participant_{what}", {"participant": p.to_dict(iso=True)})

    async def _owner(self, room: Room) -> None:
        try:
            row = await self.pool.fetchrow(_OWNER if room.kind == "meeting" else _CONFERENCE_OWNER, room.ref)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("meeting.owner_lookup_failed", room=room.name, error=str(exc))
            return
        if row is not None:
            room.owner_endpoints = frozenset(row["eps"])
            room.organization = row["slug"]
            self._flush(room)

    def _flush(self, room: Room) -> None:
        pending, room.pending = room.pending, []
        for what, body in pending:
            self._publish(room, what, body)

    def _publish(self, room: Room, what: str, body: dict[str, Any], extra: Participant | None = None) -> None:
        """`what` (started, participant_joined, ...) as the room kind's event."""
        if self.publisher is None:
            return
        kind = f"{room.kind}.{what}"
        if not room.organization:
            room.pending.append((what, body))
            return
        audience = {p.endpoint for p in room.participants.values()} | set(room.owner_endpoints)
        audience |= self.audience.get(room.name, set())
        room.ever |= {e for e in audience if e}
        if what == "ended":
            audience |= room.ever
        if extra is not None:
            audience.add(extra.endpoint)
        self.publisher.publish(
            {
                "type": kind,
                "organization": room.organization,
                room.kind: {
                    "id": room.ref,
                    "participants": len(room.participants),
                    "locked": room.locked,
                },
                **body,
                "audience": sorted(e for e in audience if e),
            }
        )

    async def rederive(self) -> None:
        """Rebuild every room from Asterisk (after a connect): nothing stale survives."""
        if self.ami is None:
            return
        rooms: dict[str, Room] = {}
        try:
            listed = await self.ami.send({"Action": "ConfbridgeListRooms"})
        except Exception as exc:
            log.info("meeting.list_rooms", result=str(exc))
            listed = []
        for msg in listed if isinstance(listed, list) else []:
            m = ROOM.fullmatch(str(msg.get("Conference", "")))
            if msg.get("Event") != "ConfbridgeListRooms" or m is None:
                continue
            key = m.group(0)
            old = self.rooms.get(key)
            room = Room(key, old.organization if old else "", old.started_at if old else self.clock())
            room.locked = _flag(msg.get("Locked"))
            rooms[key] = room
            members = await self.ami.send({"Action": "ConfbridgeList", "Conference": m.group(0)})
            for item in members if isinstance(members, list) else []:
                if item.get("Event") == "ConfbridgeList":
                    before = old.participants.get(str(item.get("Uniqueid", ""))) if old else None
                    p = self._join_quiet(room, item)
                    if before is not None:
                        p.joined_at = before.joined_at
            await self._owner(room)
        self.rooms = rooms

    def _join_quiet(self, room: Room, item: Message) -> Participant:
        publisher, self.publisher = self.publisher, None
        try:
            return self._join(room, item)
        finally:
            self.publisher = publisher

    # --- the host's actions -------------------------------------------------------------------

    def room(self, name: str) -> Room:
        """A room by its ConfBridge name (m<meeting id>, c<conference id>)."""
        room = self.rooms.get(name)
        if room is None:
            raise Conflict("nobody is in the room")
        return room

    async def _send(self, action: dict[str, object]) -> None:
        if self.ami is None:
            raise Conflict("this process does not talk to Asterisk")
        await self.ami.send(action)

    async def mute(self, name: str, participant_id: int, muted: bool) -> Participant:
        p = self.room(name).by_id(participant_id)
        verb = "ConfbridgeMute" if muted else "ConfbridgeUnmute"
        await self._send({"Action": verb, "Conference": name, "Channel": p.channel})
        return p

    async def mute_all(self, name: str, muted: bool) -> None:
        """Everyone but the hosts."""
        self.room(name)
        verb = "ConfbridgeMute" if muted else "ConfbridgeUnmute"
        await self._send({"Action": verb, "Conference": name, "Channel": "participants"})

    async def kick(self, name: str, participant_id: int) -> None:
        p = self.room(name).by_id(participant_id)
        await self._send({"Action": "ConfbridgeKick", "Conference": name, "Channel": p.channel})

    async def lock(self, name: str, locked: bool) -> None:
        self.room(name)
        verb = "ConfbridgeLock" if locked else "ConfbridgeUnlock"
        await self._send({"Action": verb, "Conference": name})

    async def ring_into(
        self,
        meeting_id: int,
        organization: str,
        endpoint: str,
        host: bool,
        meeting_name: str,
        who: tuple[str, str],
    ) -> None:
        """Ring one device; when it answers it is in the room (extensions_meetings.conf)."""
        if self.ami is None:
            raise Conflict("this process does not talk to Asterisk")
        name = safe_name(meeting_name) or "Meeting"
        user_name, extension = safe_name(who[0]), who[1] if ids.is_extension(who[1]) else ""
        await self.ami.send(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{endpoint}",
                "Context": "pbx-meeting-join",
                "Exten": f"m{meeting_id}",
                "Priority": "1",
                "CallerID": f'"{name}" <m{meeting_id}>',
                "Account": organization,
                "Variable": [
                    f"PBX_MEETING_JOIN_PROFILE={'pbx-host' if host else 'pbx-participant'}",
                    f"PBX_MEETING_JOIN_NAME={user_name}",
                    f"PBX_MEETING_JOIN_NUM={extension}",
                ],
                "Timeout": 30000,
                "Async": "true",
            }
        )
