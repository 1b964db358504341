"""Meetings over HTTP: create, list, read, change and delete a meeting; its invitation as text and
as an iCalendar file; the organization's outside dial-in number (admins). Members of the
organization see its meetings (the host PIN only their owner and admins); only the owner or an
admin changes one; another organization's meeting is 404."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from pbx_control.api.context import Ctx
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.kernel.db import transaction
from pbx_control.kernel.errors import Invalid
from pbx_control.kernel.ids import E164
from pbx_control.meetings import repository
from pbx_control.meetings.invitation import DIAL_IN_EXTENSION, Invite, ics, text
from pbx_control.meetings.schemas import DialInIn, DialInOut, MeetingIn, MeetingOut, MeetingPatch

routes = RouteTable("meetings")


def _invite(meeting: dict[str, Any], facts: asyncpg.Record) -> Invite:
    return Invite(
        meeting_id=meeting["id"],
        name=meeting["name"],
        pin=meeting["pin"],
        starts_at=meeting["starts_at"],
        ends_at=meeting["ends_at"],
        organization=facts["name"],
        timezone=facts["timezone"],
        outside_number=facts["outside_number"],
    )


def _out(ctx: Ctx, meeting: dict[str, Any], facts: asyncpg.Record) -> dict[str, Any]:
    invite = _invite(meeting, facts)
    mine = ctx.is_admin or meeting["owner_user_id"] == ctx.principal.user_id
    return {
        **meeting,
        "host_pin": meeting["host_pin"] if mine else None,
        "invitation": {
            "dial_in_extension": DIAL_IN_EXTENSION,
            "dial_in_number": facts["outside_number"],
            "pin": meeting["pin"],
            "text_sv": text(invite, "sv"),
            "text_en": text(invite, "en"),
            "ics_url": f"/meetings/{meeting['id']}/invitation.ics",
        },
    }


@routes.route(
    "POST",
    "/meetings",
    summary="Create a meeting",
    roles=MEMBERS,
    body=MeetingIn,
    response=MeetingOut,
    status=201,
)
async def create_meeting(ctx: Ctx) -> dict[str, Any]:
    """The meeting gets a random PIN and host PIN (6 digits each) and an invitation to send."""
    body: MeetingIn = ctx.body
    async with transaction(ctx.pool) as conn:
        meeting = await repository.create(
            conn,
            ctx.org_id,
            ctx.principal.user_id,
            body.name.strip() or body.name,
            body.starts_at,
            body.ends_at,
        )
        return _out(ctx, meeting, await repository.invitation_facts(conn, ctx.org_id))


@routes.route(
    "GET", "/meetings", summary="The organization's meetings", roles=MEMBERS, response=list[MeetingOut]
)
async def list_meetings(ctx: Ctx) -> list[dict[str, Any]]:
    """Query `mine=true`: only the meetings I own."""
    mine = ctx.request.query.get("mine", "false")
    if mine not in ("true", "false"):
        raise Invalid("mine must be true or false")
    async with ctx.pool.acquire() as conn:
        rows = await repository.list_for(conn, ctx.org_id, ctx.principal.user_id if mine == "true" else None)
        facts = await repository.invitation_facts(conn, ctx.org_id)
    return [_out(ctx, m, facts) for m in rows]


@routes.route("GET", "/meetings/{meeting_id}", summary="One meeting", roles=MEMBERS, response=MeetingOut)
async def get_meeting(ctx: Ctx) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        meeting = await repository.get(conn, ctx.org_id, ctx.params["meeting_id"])
        return _out(ctx, meeting, await repository.invitation_facts(conn, ctx.org_id))


@routes.route(
    "PATCH",
    "/meetings/{meeting_id}",
    summary="Change a meeting (owner or admin)",
    roles=MEMBERS,
    body=MeetingPatch,
    response=MeetingOut,
)
async def patch_meeting(ctx: Ctx) -> dict[str, Any]:
    """Fields left out stay; `starts_at`/`ends_at` null clears them; `new_pins` draws new PINs."""
    body: MeetingPatch = ctx.body
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise Invalid("name cannot be null")
    async with transaction(ctx.pool) as conn:
        meeting = await repository.update(
            conn, ctx.org_id, ctx.params["meeting_id"], ctx.principal.user_id, ctx.is_admin, changes
        )
        return _out(ctx, meeting, await repository.invitation_facts(conn, ctx.org_id))


@routes.route("DELETE", "/meetings/{meeting_id}", summary="Delete a meeting (owner or admin)", roles=MEMBERS)
async def delete_meeting(ctx: Ctx) -> None:
    """Its PINs then open nothing; a caller who dials one is told the meeting was deleted."""
    async with transaction(ctx.pool) as conn:
        await repository.delete(
            conn, ctx.org_id, ctx.params["meeting_id"], ctx.principal.user_id, ctx.is_admin, ctx.now()
        )


@routes.route(
    "GET",
    "/meetings/{meeting_id}/invitation.ics",
    summary="The invitation as an iCalendar file",
    roles=MEMBERS,
    response=str,
)
async def get_meeting_ics(ctx: Ctx) -> web.Response:
    """text/calendar; the description holds the Swedish and the English invitation."""
    async with ctx.pool.acquire() as conn:
        meeting = await repository.get(conn, ctx.org_id, ctx.params["meeting_id"])
        facts = await repository.invitation_facts(conn, ctx.org_id)
    body = ics(_invite(meeting, facts), ctx.now())
    return web.Response(
        text=body,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="meeting-{meeting["id"]}.ics"'},
    )


@routes.route(
    "PUT",
    "/meetings/dial-in",
    summary="The outside dial-in number (admins)",
    roles=ADMIN,
    body=DialInIn,
    response=DialInOut,
)
async def put_dial_in(ctx: Ctx) -> dict[str, str | None]:
    body: DialInIn = ctx.body
    if body.number is not None and not E164.fullmatch(body.number):
        raise Invalid("number must be E.164, e.g. +46812345678")
    async with transaction(ctx.pool) as conn:
        return {"number": await repository.set_dial_in(conn, ctx.org_id, body.number)}
