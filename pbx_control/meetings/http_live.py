"""A meeting's room over HTTP: the participants live (name, number, joined at, talking, muted),
and the host's actions: mute or unmute one or everyone, remove one, lock the room. The owner,
operators and admins see the participants; only the owner and admins act on them."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.kernel.errors import Conflict, Forbidden
from pbx_control.meetings import repository
from pbx_control.meetings.live import LiveMeetings
from pbx_control.meetings.schemas import LockIn, MuteIn, RoomOut

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


def _room(live: LiveMeetings, meeting_id: int) -> dict[str, Any]:
    room = live.rooms.get(meeting_id)
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
    return _room(live, meeting["id"])


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
    await live.mute(meeting["id"], ctx.params["participant_id"], body.muted)


@routes.route(
    "DELETE",
    "/meetings/{meeting_id}/participants/{participant_id}",
    summary="Remove a participant from the meeting (host)",
    roles=MEMBERS,
)
async def kick_participant(ctx: Ctx) -> None:
    meeting, live = await _meeting(ctx, act=True)
    await live.kick(meeting["id"], ctx.params["participant_id"])


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
    await live.mute_all(meeting["id"], body.muted)


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
    await live.lock(meeting["id"], body.locked)
