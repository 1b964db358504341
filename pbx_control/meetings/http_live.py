"""A meeting's room over HTTP: the participants live (name, number, joined at, talking, muted),
and the host's actions: mute or unmute one or everyone, remove one, lock the room. The owner,
operators and admins see the participants; only the owner and admins act on them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.asterisk import asterisk_errors
from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.kernel.errors import Conflict, Forbidden, NotFound
from pbx_control.meetings import repository
from pbx_control.meetings.dialin import room_name
from pbx_control.meetings.live import LiveMeetings
from pbx_control.meetings.schemas import JoinIn, LockIn, MuteIn, RoomOut

routes = RouteTable("meetings")
LIVE: web.AppKey[LiveMeetings | None] = web.AppKey("meetings_live")


async def _meeting(ctx: Ctx, *, act: bool) -> tuple[dict[str, Any], LiveMeetings]:
    async with ctx.pool.acquire() as conn:
        meeting = await repository.get(conn, ctx.org_id, ctx.params["meeting_id"])
    owner = meeting["owner_user_id"] == ctx.principal.user_id
    if act and not (owner or ctx.is_admin):
        raise Forbidden("only the meeting's owner or an admin may do this")
    if not act and not (owner or ctx.principal.role in ("operator", "admin")):
        raise Forbidden("only the meeting's owner, operators and admins see its participants")
    live = ctx.app[LIVE]
    if live is None:
        raise Conflict("this process does not follow Asterisk's rooms")
    return meeting, live


def room_view(live: LiveMeetings, name: str) -> dict[str, Any]:
    """The room as GET .../participants shows it (also for ad-hoc conferences)."""
    room = live.rooms.get(name)
    if room is None:
        return {"active": False, "locked": False, "participants": []}
    people = sorted(room.participants.values(), key=lambda p: p.id)
    return {"active": True, "locked": room.locked, "participants": [p.to_dict() for p in people]}


@routes.route(
    "GET",
    "/meetings/{meeting_id}/participants",
    summary="Who is in the meeting now",
    roles=MEMBERS,
    response=RoomOut,
)
async def get_participants(ctx: Ctx) -> dict[str, Any]:
    meeting, live = await _meeting(ctx, act=False)
    return room_view(live, room_name(meeting["id"]))


@routes.route(
    "POST",
    "/meetings/{meeting_id}/participants/{participant_id}/mute",
    summary="Mute or unmute one participant (host)",
    roles=MEMBERS,
    body=MuteIn,
)
async def mute_participant(ctx: Ctx) -> None:
    meeting, live = await _meeting(ctx, act=True)
    body: MuteIn = ctx.body
    async with asterisk_errors():
        await live.mute(room_name(meeting["id"]), ctx.params["participant_id"], body.muted)


@routes.route(
    "DELETE",
    "/meetings/{meeting_id}/participants/{participant_id}",
    summary="Remove a participant from the meeting (host)",
    roles=MEMBERS,
)
async def kick_participant(ctx: Ctx) -> None:
    meeting, live = await _meeting(ctx, act=True)
    async with asterisk_errors():
        await live.kick(room_name(meeting["id"]), ctx.params["participant_id"])


@routes.route(
    "POST",
    "/meetings/{meeting_id}/mute-all",
    summary="Mute or unmute everyone but the hosts",
    roles=MEMBERS,
    body=MuteIn,
)
async def mute_all(ctx: Ctx) -> None:
    meeting, live = await _meeting(ctx, act=True)
    body: MuteIn = ctx.body
    async with asterisk_errors():
        await live.mute_all(room_name(meeting["id"]), body.muted)


@routes.route(
    "POST",
    "/meetings/{meeting_id}/lock",
    summary="Lock or unlock the room (host)",
    roles=MEMBERS,
    body=LockIn,
)
async def lock_meeting(ctx: Ctx) -> None:
    """A locked room lets nobody new in (ConfBridge's lock); those in it stay."""
    meeting, live = await _meeting(ctx, act=True)
    body: LockIn = ctx.body
    async with asterisk_errors():
        await live.lock(room_name(meeting["id"]), body.locked)


_MY_DEVICE = """SELECT d.sip_username, o.slug, u.name, u.extension FROM devices d
                JOIN organizations o ON o.id = d.organization_id JOIN users u ON u.id = d.user_id
                WHERE d.user_id = $1 AND d.organization_id = $2 AND ($3::bigint IS NULL OR d.id = $3)
                ORDER BY d.id LIMIT 1"""


@routes.route(
    "POST",
    "/meetings/{meeting_id}/join",
    summary="Ring one of my devices into the meeting",
    roles=MEMBERS,
    body=JoinIn,
)
async def join_meeting(ctx: Ctx) -> None:
    """`device_id`: which of my devices (default: my first). It rings; answered, it is in the room
    (as the host when I own the meeting)."""
    body: JoinIn = ctx.body
    async with ctx.pool.acquire() as conn:
        meeting = await repository.get(conn, ctx.org_id, ctx.params["meeting_id"])
        row = await conn.fetchrow(_MY_DEVICE, ctx.principal.user_id, ctx.org_id, body.device_id)
    if row is None:
        raise NotFound("no such device of yours")
    if meeting["ends_at"] is not None and meeting["ends_at"] <= ctx.now():
        raise Conflict("the meeting has ended")
    live = ctx.app[LIVE]
    if live is None:
        raise Conflict("this process does not talk to Asterisk")
    host = meeting["owner_user_id"] == ctx.principal.user_id
    who = (row["name"], row["extension"] or "")
    async with asterisk_errors():
        await live.ring_into(meeting["id"], row["slug"], row["sip_username"], host, meeting["name"], who)
