"""Answer groups: everyone in the organization sees them and who is logged in; members log
themselves in and out; operators, admins and group admins log colleagues in and out and switch
night mode; admins create, change and delete groups."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from pbx_control.api.context import AMI, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.api.schemas import Extension, Id, Input
from pbx_control.groups import admin, membership
from pbx_control.groups.lamps import set_lamp, sync_hints
from pbx_control.groups.model import Destination, Holiday, OpenHours, Strategy
from pbx_control.logs import get_logger

log = get_logger(__name__)
routes = RouteTable("groups")

RingTime = Annotated[int, Field(ge=2, le=300, description="seconds each member rings")]
MaxWait = Annotated[int, Field(ge=2, le=3600, description="seconds a caller waits before overflow")]


class MemberIn(Input):
    user_id: Id
    group_admin: bool = False


class GroupCreate(Input):
    extension: Extension
    name: str = Field(min_length=1, max_length=200)
    number: str | None = Field(default=None, max_length=40, description="a DID for the group (E.164)")
    strategy: Strategy = "ringall"
    ring_time: RingTime = 20
    max_wait: MaxWait = 120
    overflow: Destination | None = None
    night_destination: Destination | None = None
    schedule: list[OpenHours] = Field(default_factory=list, max_length=100)
    holidays: list[Holiday] = Field(default_factory=list, max_length=400)
    timezone: str | None = Field(default=None, max_length=64, description="default: the organization's")
    members: list[MemberIn] = Field(default_factory=list, max_length=500, description="in ring order")


class GroupUpdate(Input):
    """Only the fields given change; `members` replaces the list (kept members stay logged in)."""

    extension: Extension | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, max_length=40)
    strategy: Strategy | None = None
    ring_time: RingTime | None = None
    max_wait: MaxWait | None = None
    overflow: Destination | None = None
    night_destination: Destination | None = None
    schedule: list[OpenHours] | None = Field(default=None, max_length=100)
    holidays: list[Holiday] | None = Field(default=None, max_length=400)
    timezone: str | None = Field(default=None, max_length=64)
    members: list[MemberIn] | None = Field(default=None, max_length=500)


class MemberOut(BaseModel):
    user_id: int
    name: str
    extension: str | None
    position: int
    group_admin: bool
    logged_in: bool
    paused: bool = Field(description="logged in but not rung: a pause, or an activity other than Available")
    pause_reason: str


class GroupOut(BaseModel):
    id: int
    extension: str
    name: str
    number: str | None
    strategy: str
    ring_time: int
    max_wait: int
    overflow: Destination | None
    night_destination: Destination | None
    night_manual: bool
    night: bool = Field(description="in night mode now (switch, schedule or holiday)")
    schedule: list[OpenHours]
    holidays: list[Holiday]
    timezone: str | None
    state: Literal["green", "grey", "padlock"] = Field(
        description="for the asker: green logged in, grey logged out, padlock night mode"
    )
    may_answer: bool
    members: list[MemberOut]


class LoginIn(Input):
    user_id: Id | None = Field(default=None, description="a colleague; default: yourself")


class PauseIn(Input):
    user_id: Id | None = None
    paused: bool
    reason: str = Field(default="", max_length=80, pattern=r"^[^\x00-\x1f\x7f]*$")


class NightIn(Input):
    on: bool


def _actor(ctx: Ctx) -> membership.Actor:
    p = ctx.principal
    return membership.Actor(p.user_id, ctx.org_id, p.role)


async def _guard(call: Any) -> Any:
    try:
        return await call
    except membership.Forbidden as exc:
        raise ApiError(403, "forbidden", exc.message) from None


async def _hints_changed(ctx: Ctx) -> None:
    """Rewrite the night-lamp hints when this process drives Asterisk (AMI); a process without AMI
    leaves it to the one with it, which rewrites them at every AMI (re)connect."""
    ami = ctx.app.get(AMI)
    if ami is None:
        return

    async def reload() -> None:
        if ami.connected:
            await ami.command("dialplan reload")

    try:
        await sync_hints(ctx.pool, ctx.settings.asterisk_etc, reload)
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
    roles=ADMIN,
    body=GroupUpdate,
    response=GroupOut,
)
async def update_group(ctx: Ctx) -> dict[str, Any]:
    """Takes effect for the next call: strategy, ring time, overflow, schedule, members."""
    body: GroupUpdate = ctx.body
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    for key in ("extension", "name", "strategy", "ring_time", "max_wait", "schedule", "holidays", "members"):
        if key in changes and changes[key] is None:
            raise ApiError(400, "validation_error", f"{key}: may not be null")
    group_id = ctx.params["group_id"]
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
    await _guard(membership.set_login(ctx.pool, actor, group_id, body.user_id or actor.user_id, on))
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
    await _guard(membership.set_pause(ctx.pool, actor, group_id, user_id, body.paused, body.reason))
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
    await _guard(membership.set_night(ctx.pool, actor, group_id, ctx.body.on))
    try:
        await set_lamp(ctx.app.get(AMI), group_id, ctx.body.on)
    except Exception:
        log.exception("groups.lamp_failed", group_id=group_id)
    return await admin.get_group(ctx.pool, ctx.org_id, actor.user_id, group_id, ctx.now())
