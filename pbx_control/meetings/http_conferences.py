"""Ad-hoc conferences over HTTP (meetings/conferences.py): turn my call into a conference and ring
more people into it, or start a multi-party call; the conference view (participants live, mute,
remove); the organization's participant limit (admins).

Who may do what: I start conferences from my own calls and devices only (another's call is 404,
like GET /calls); the owner and admins add, mute and remove; the owner, operators and admins see
the participants. Another organization's conference is 404. Every destination is checked as a
forward target is (reachability/checks.py: a colleague or group of the organization, or an outside
number the call policy allows, routing/destinations.py), before anything rings.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from pbx_control.ami.calls import Channel
from pbx_control.api.asterisk import asterisk_errors
from pbx_control.api.context import CALLS, Ctx
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.callcontrol.actions import is_uniqueid
from pbx_control.callcontrol.views import peer_of, view
from pbx_control.kernel.db import Db
from pbx_control.kernel.errors import Conflict, Forbidden, NotFound
from pbx_control.meetings.conferences import (
    DEFAULT_MAX_PARTICIPANTS,
    Conferences,
    Host,
    Who,
    over_limit,
    room_name,
)
from pbx_control.meetings.http_live import room_view
from pbx_control.meetings.schemas import (
    AddIn,
    ConferenceIn,
    ConferenceOut,
    ConferenceSettingsIn,
    ConferenceSettingsOut,
    MuteIn,
    RoomOut,
)
from pbx_control.reachability.checks import forward_number

routes = RouteTable("conferences")
CONFERENCES: web.AppKey[Conferences | None] = web.AppKey("conferences")

_ME = """SELECT u.name, u.extension, o.slug FROM users u JOIN organizations o ON o.id = u.organization_id
         WHERE u.id = $1 AND u.organization_id = $2"""
_DEVICES = "SELECT id, sip_username FROM devices WHERE user_id = $1 AND organization_id = $2 ORDER BY id"
_NAME = """SELECT name FROM users WHERE organization_id = $1 AND extension = $2
           UNION ALL SELECT name FROM answer_groups WHERE organization_id = $1 AND extension = $2 LIMIT 1"""
_COLLEAGUE = """SELECT d.sip_username FROM devices d JOIN users u ON u.id = d.user_id
                WHERE u.organization_id = $1 AND u.extension = $2"""
_LIMIT = "SELECT max_participants FROM conference_settings WHERE organization_id = $1"
_NEW = "INSERT INTO conferences (organization_id, owner_user_id) VALUES ($1, $2) RETURNING id"
_GET = "SELECT id, owner_user_id FROM conferences WHERE id = $1 AND organization_id = $2"


def _conferences(ctx: Ctx) -> Conferences:
    found = ctx.app.get(CONFERENCES)
    if found is None:  # as the meetings' live routes say it
        raise Conflict("this process does not talk to Asterisk")
    return found


async def _limit(conn: Db, org_id: int) -> int:
    found = await conn.fetchval(_LIMIT, org_id)
    return int(found) if found is not None else DEFAULT_MAX_PARTICIPANTS


async def _invitees(ctx: Ctx, raw: list[str], field: str) -> list[tuple[str, Who]]:
    """The destinations checked (400 on the first bad one), each once, with the name to show."""
    out: list[tuple[str, Who]] = []
    async with ctx.pool.acquire() as conn:
        for i, text in enumerate(raw):
            number = await forward_number(
                conn, ctx.org_id, ctx.principal.user_id, text, f"{field}[{i}]", use="dial"
            )
            if all(number != n for n, _ in out):
                name = await conn.fetchval(_NAME, ctx.org_id, number) if number[0] != "+" else None
                devices = [r["sip_username"] for r in await conn.fetch(_COLLEAGUE, ctx.org_id, number)]
                out.append((number, Who(name or "", number, frozenset(devices))))
    return out


async def _me(conn: Db, ctx: Ctx) -> tuple[str, Who, list[asyncpg.Record]]:
    row = await conn.fetchrow(_ME, ctx.principal.user_id, ctx.org_id)
    if row is None:
        raise NotFound("user not found")
    devices = await conn.fetch(_DEVICES, ctx.principal.user_id, ctx.org_id)
    return row["slug"], Who(row["name"], row["extension"] or ""), list(devices)


@routes.route(
    "POST",
    "/conferences",
    summary="Add people to my call, or start a multi-party call",
    roles=MEMBERS,
    body=ConferenceIn,
    response=ConferenceOut,
    status=202,
)
async def start_conference(ctx: Ctx) -> dict[str, Any]:
    """With `call`: that answered two-party call of mine becomes a conference (both of us stay on
    the line, I am its host) and every one of `participants` rings; answered, they are in it too.
    Without `call`: my device rings (`device_id`, default my first); when I answer, the
    participants ring. Over the organization's limit: 409, nothing rings."""
    body: ConferenceIn = ctx.body
    invitees = await _invitees(ctx, body.participants, "participants")
    conferences = _conferences(ctx)
    async with ctx.pool.acquire() as conn:
        slug, me, devices = await _me(conn, ctx)
        limit = await _limit(conn, ctx.org_id)
    mine = {d["sip_username"] for d in devices}
    moved: tuple[Channel, Channel, Who] | None = None
    if body.call is not None:
        calls = ctx.app.get(CALLS)
        if calls is None:
            raise Conflict("this process does not follow Asterisk's calls")
        channel = calls.get(body.call) if is_uniqueid(body.call) else None
        if channel is None or channel.endpoint not in mine:
            raise NotFound("no such call on your devices")
        if conferences.in_a_room(channel.uniqueid) is not None:
            raise Conflict("the call is a conference already: POST /conferences/{id}/participants adds")
        peer = peer_of(calls, channel)
        if peer is None:
            raise Conflict("only an answered call can become a conference")
        shown = view(calls, channel)
        moved = (channel, peer, Who(shown.peer_name, shown.peer_number))
        endpoint, base = channel.endpoint or "", 2
    else:
        chosen = [d for d in devices if body.device_id is None or d["id"] == body.device_id]
        if not chosen:
            raise NotFound("no such device of yours")
        endpoint, base = chosen[0]["sip_username"], 1
    why = over_limit(base, 0, len(invitees), limit)
    if why is not None:
        raise Conflict(why)
    async with ctx.pool.acquire() as conn:
        conference_id = int(await conn.fetchval(_NEW, ctx.org_id, ctx.principal.user_id))
    room, host = room_name(conference_id), Host(slug, endpoint, me, frozenset(mine))
    if moved is not None:
        async with asterisk_errors():
            await conferences.from_call(room, host, *moved)
        for number, who in invitees:
            conferences.invite(room, host, number, who)
    else:
        conferences.start(room, host, invitees)
    return {"id": conference_id, "ringing": [n for n, _ in invitees]}


async def _conference(ctx: Ctx, *, act: bool) -> tuple[dict[str, Any], Conferences]:
    conferences = _conferences(ctx)
    async with ctx.pool.acquire() as conn:
        row = await conn.fetchrow(_GET, ctx.params["conference_id"], ctx.org_id)
    if row is None:
        raise NotFound("no such conference")
    owner = row["owner_user_id"] == ctx.principal.user_id
    if act and not (owner or ctx.is_admin):
        raise Forbidden("only the conference's host or an admin may do this")
    if not act and not (owner or ctx.principal.role in ("operator", "admin")):
        raise Forbidden("only the conference's host, operators and admins see its participants")
    return dict(row), conferences


@routes.route(
    "POST",
    "/conferences/{conference_id}/participants",
    summary="Ring one more person into the conference",
    roles=MEMBERS,
    body=AddIn,
    response=ConferenceOut,
    status=202,
)
async def add_participant(ctx: Ctx) -> dict[str, Any]:
    """Rung as if the host had dialled `to` on their device; over the limit (those in the room and
    those still ringing): 409."""
    row, conferences = await _conference(ctx, act=True)
    body: AddIn = ctx.body
    room = room_name(row["id"])
    if room not in conferences.live.rooms:
        raise Conflict("the conference has ended")
    (invitee,) = await _invitees(ctx, [body.to], "to")
    async with ctx.pool.acquire() as conn:
        owner = await conn.fetchrow(_ME, row["owner_user_id"], ctx.org_id)
        devices = await conn.fetch(_DEVICES, row["owner_user_id"], ctx.org_id)
        limit = await _limit(conn, ctx.org_id)
    if owner is None or not devices:
        raise Conflict("the conference's host has no device to call from")
    conferences.check(room, 1, limit)
    who = Who(owner["name"], owner["extension"] or "")
    host = Host(owner["slug"], devices[0]["sip_username"], who, frozenset(d["sip_username"] for d in devices))
    conferences.invite(room, host, *invitee)
    return {"id": row["id"], "ringing": [invitee[0]]}


@routes.route(
    "GET",
    "/conferences/{conference_id}/participants",
    summary="Who is in the conference now",
    roles=MEMBERS,
    response=RoomOut,
)
async def conference_participants(ctx: Ctx) -> dict[str, Any]:
    row, conferences = await _conference(ctx, act=False)
    return room_view(conferences.live, room_name(row["id"]))


@routes.route(
    "POST",
    "/conferences/{conference_id}/participants/{participant_id}/mute",
    summary="Mute or unmute one participant (host)",
    roles=MEMBERS,
    body=MuteIn,
)
async def mute_conference_participant(ctx: Ctx) -> None:
    row, conferences = await _conference(ctx, act=True)
    body: MuteIn = ctx.body
    async with asterisk_errors():
        await conferences.live.mute(room_name(row["id"]), ctx.params["participant_id"], body.muted)


@routes.route(
    "DELETE",
    "/conferences/{conference_id}/participants/{participant_id}",
    summary="Hang up one participant of the conference (host)",
    roles=MEMBERS,
)
async def kick_conference_participant(ctx: Ctx) -> None:
    row, conferences = await _conference(ctx, act=True)
    async with asterisk_errors():
        await conferences.live.kick(room_name(row["id"]), ctx.params["participant_id"])


@routes.route(
    "GET",
    "/conference-settings",
    summary="The organization's conference limit",
    roles=MEMBERS,
    response=ConferenceSettingsOut,
)
async def get_conference_settings(ctx: Ctx) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        return {"max_participants": await _limit(conn, ctx.org_id)}


@routes.route(
    "PUT",
    "/conference-settings",
    summary="Set the organization's conference limit (admins)",
    roles=ADMIN,
    body=ConferenceSettingsIn,
    response=ConferenceSettingsOut,
)
async def put_conference_settings(ctx: Ctx) -> dict[str, Any]:
    """`max_participants`: people in one ad-hoc conference, those ringing included (2 to 50)."""
    body: ConferenceSettingsIn = ctx.body
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO conference_settings (organization_id, max_participants) VALUES ($1, $2)
               ON CONFLICT (organization_id) DO UPDATE SET max_participants = EXCLUDED.max_participants""",
            ctx.org_id,
            body.max_participants,
        )
    return {"max_participants": body.max_participants}
