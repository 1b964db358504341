"""Answer groups: everyone in the organization sees them and who is logged in; members log
themselves in and out; operators, admins and group admins log colleagues in and out and switch
night mode; admins create, change and delete groups."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import AMI, DIALPLAN, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.groups import admin, membership
from pbx_control.groups.lamps import set_lamp, sync_hints
from pbx_control.groups.schemas import (
    GroupCreate,
    GroupOut,
    GroupUpdate,
    LoginIn,
    NightIn,
    PauseIn,
)
from pbx_control.logs import get_logger

log = get_logger(__name__)
routes = RouteTable("groups")


def _actor(ctx: Ctx) -> membership.Actor:
    p = ctx.principal
    return membership.Actor(p.user_id, ctx.org_id, p.role)


async def _hints_changed(ctx: Ctx) -> None:
    """Rewrite the night-lamp hints when this process drives Asterisk (AMI); a process without AMI
    leaves it to the one with it, which rewrites them at every AMI (re)connect."""
    dialplan = ctx.app[DIALPLAN]
    if dialplan.ami is None:
        return
    try:
        await sync_hints(ctx.pool, dialplan.etc_dir, dialplan.reload)
    except Exception:
        log.exception("groups.hints_sync_failed")


@routes.route(
    "GET", "/groups", summary="The organization's answer groups", roles=MEMBERS, response=list[GroupOut]
)
async def list_groups(ctx: Ctx) -> list[dict[str, Any]]:
    """Who is logged in to each group, and your state in it (green, grey, padlock)."""
    return await admin.list_groups(ctx.pool, ctx.org_id, ctx.principal.user_id, ctx.now())


@routes.route("GET", "/groups/{group_id}", summary="One answer group", roles=MEMBERS, response=GroupOut)
async def get_group(ctx: Ctx) -> dict[str, Any]:
    group_id = ctx.params["group_id"]
    return await admin.get_group(ctx.pool, ctx.org_id, ctx.principal.user_id, group_id, ctx.now())


@routes.route(
    "POST",
    "/groups",
    summary="Create an answer group",
    roles=ADMIN,
    body=GroupCreate,
    response=GroupOut,
    status=201,
)
async def create_group(ctx: Ctx) -> dict[str, Any]:
    changes = {k: getattr(ctx.body, k) for k in ctx.body.model_fields_set | {"extension", "name"}}
    group_id = await admin.save_group(ctx.pool, ctx.org_id, None, changes)
    await _hints_changed(ctx)
    return await admin.get_group(ctx.pool, ctx.org_id, ctx.principal.user_id, group_id, ctx.now())


@routes.route(
    "PATCH",
    "/groups/{group_id}",
    summary="Change an answer group",
    roles=MEMBERS,
    body=GroupUpdate,
    response=GroupOut,
)
async def update_group(ctx: Ctx) -> dict[str, Any]:
    """Takes effect for the next call: strategy, ring time, overflow, schedule, members. Admins
    change everything; operators and the group's group admins its call handling only (the app's
    gear: strategy, ring_time, max_wait, overflow, night_destination), anything else 403."""
    body: GroupUpdate = ctx.body
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    for key in ("extension", "name", "strategy", "ring_time", "max_wait", "schedule", "holidays", "members"):
        if key in changes and changes[key] is None:
            raise ApiError(400, "validation_error", f"{key}: may not be null")
    group_id = ctx.params["group_id"]
    if ctx.principal.role != "admin":
        await membership.require_manager(ctx.pool, _actor(ctx), group_id, set(changes))
    await admin.save_group(ctx.pool, ctx.org_id, group_id, changes)
    if "extension" in changes:
        await _hints_changed(ctx)
    return await admin.get_group(ctx.pool, ctx.org_id, ctx.principal.user_id, group_id, ctx.now())


@routes.route("DELETE", "/groups/{group_id}", summary="Delete an answer group", roles=ADMIN)
async def delete_group(ctx: Ctx) -> None:
    await admin.delete_group(ctx.pool, ctx.org_id, ctx.params["group_id"])
    await _hints_changed(ctx)


async def _login(ctx: Ctx, on: bool) -> dict[str, Any]:
    body: LoginIn = ctx.body
    actor = _actor(ctx)
    group_id = ctx.params["group_id"]
    await membership.set_login(ctx.pool, actor, group_id, body.user_id or actor.user_id, on)
    return await admin.get_group(ctx.pool, ctx.org_id, actor.user_id, group_id, ctx.now())


@routes.route(
    "POST",
    "/groups/{group_id}/login",
    summary="Log in to a group",
    roles=MEMBERS,
    body=LoginIn,
    response=GroupOut,
)
async def login_group(ctx: Ctx) -> dict[str, Any]:
    """Yourself (if you may answer the group), or a colleague (operators, admins, group admins)."""
    return await _login(ctx, True)


@routes.route(
    "POST",
    "/groups/{group_id}/logout",
    summary="Log out of a group",
    roles=MEMBERS,
    body=LoginIn,
    response=GroupOut,
)
async def logout_group(ctx: Ctx) -> dict[str, Any]:
    return await _login(ctx, False)


@routes.route(
    "POST",
    "/groups/{group_id}/pause",
    summary="Pause or unpause",
    roles=MEMBERS,
    body=PauseIn,
    response=GroupOut,
)
async def pause_group(ctx: Ctx) -> dict[str, Any]:
    """A paused member stays logged in but is not rung; the reason is shown to colleagues."""
    body: PauseIn = ctx.body
    actor = _actor(ctx)
    group_id = ctx.params["group_id"]
    user_id = body.user_id or actor.user_id
    await membership.set_pause(ctx.pool, actor, group_id, user_id, body.paused, body.reason)
    return await admin.get_group(ctx.pool, ctx.org_id, actor.user_id, group_id, ctx.now())


@routes.route(
    "POST",
    "/groups/{group_id}/night",
    summary="Switch night mode",
    roles=MEMBERS,
    body=NightIn,
    response=GroupOut,
)
async def night_group(ctx: Ctx) -> dict[str, Any]:
    """Operators, admins and group admins; the group's lamp (hint *46<extension>) follows."""
    actor = _actor(ctx)
    group_id = ctx.params["group_id"]
    await membership.set_night(ctx.pool, actor, group_id, ctx.body.on)
    try:
        await set_lamp(ctx.app.get(AMI), group_id, ctx.body.on)
    except Exception:
        log.exception("groups.lamp_failed", group_id=group_id)
    return await admin.get_group(ctx.pool, ctx.org_id, actor.user_id, group_id, ctx.now())
