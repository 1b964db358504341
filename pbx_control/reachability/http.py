"""A user's own reachability: current activity (spoken redirect), custom activities, custom settings.

Everything is the asker's own (`/users/me/...`). Bad input is a 400 saying why, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.reachability import activities as acts
from pbx_control.reachability import service, settings
from pbx_control.reachability.schemas import (
    ActivityChoices,
    ActivityIn,
    ActivityOut,
    CustomActivityIn,
    CustomActivityOut,
    CustomActivityUpdate,
    SettingsIn,
    SettingsOut,
)

routes = RouteTable("reachability")


# --- activity ---------------------------------------------------------------------------------


@routes.route("GET", "/users/me/activity", summary="My current activity", roles=MEMBERS, response=ActivityOut)
async def get_my_activity(ctx: Ctx) -> dict[str, Any]:
    """An activity past its end time is reported as available: it ended by itself."""
    ctx.org_id  # noqa: B018 - platform admins have no activity (403)
    return await service.get_activity(ctx.pool, ctx.principal.user_id, ctx.now())


@routes.route(
    "PUT",
    "/users/me/activity",
    summary="Set my activity and note",
    roles=MEMBERS,
    body=ActivityIn,
    response=ActivityOut,
)
async def put_my_activity(ctx: Ctx) -> dict[str, Any]:
    """While the activity is not available, callers hear "<name> <is in a meeting> until <time>" in
    your language, then go to its destination (built-ins: voicemail). The audio is made in the
    background within seconds (announcement_ready); VIP callers ring through."""
    ctx.org_id  # noqa: B018
    b: ActivityIn = ctx.body
    return await service.set_activity(
        ctx.pool,
        ctx.principal.user_id,
        ctx.now(),
        activity=b.activity,
        custom_activity_id=b.custom_activity_id,
        duration_minutes=b.duration_minutes,
        until=b.until,
        until_further_notice=b.until_further_notice,
        note=b.note,
    )


# --- custom activities ------------------------------------------------------------------------


@routes.route(
    "GET", "/users/me/activities", summary="Activities I can set", roles=MEMBERS, response=ActivityChoices
)
async def list_my_activities(ctx: Ctx) -> dict[str, Any]:
    """The built-in activities with their durations, and my own."""
    ctx.org_id  # noqa: B018
    builtin = [
        {
            "activity": b.kind,
            "label_sv": b.label_sv,
            "label_en": b.label_en,
            "durations": list(b.durations),
            "default_minutes": b.default_minutes,
        }
        for b in acts.BUILTINS.values()
    ]
    return {"builtin": builtin, "custom": await service.list_custom(ctx.pool, ctx.principal.user_id)}


@routes.route(
    "POST",
    "/users/me/activities",
    summary="Create my own activity",
    roles=MEMBERS,
    body=CustomActivityIn,
    response=CustomActivityOut,
    status=201,
)
async def create_my_activity(ctx: Ctx) -> dict[str, Any]:
    ctx.org_id  # noqa: B018
    return await service.create_custom(ctx.pool, ctx.principal.user_id, ctx.body.model_dump())


@routes.route(
    "GET",
    "/users/me/activities/{activity_id}",
    summary="One of my activities",
    roles=MEMBERS,
    response=CustomActivityOut,
)
async def get_my_custom_activity(ctx: Ctx) -> dict[str, Any]:
    ctx.org_id  # noqa: B018
    return await service.get_custom(ctx.pool, ctx.principal.user_id, ctx.params["activity_id"])


@routes.route(
    "PATCH",
    "/users/me/activities/{activity_id}",
    summary="Change one of my activities",
    roles=MEMBERS,
    body=CustomActivityUpdate,
    response=CustomActivityOut,
)
async def update_my_custom_activity(ctx: Ctx) -> dict[str, Any]:
    """Only the fields sent change. If it is my current activity, callers hear the new sentence."""
    ctx.org_id  # noqa: B018
    fields = ctx.body.model_dump(exclude_unset=True)
    return await service.update_custom(
        ctx.pool, ctx.principal.user_id, ctx.params["activity_id"], fields, ctx.now()
    )


@routes.route(
    "DELETE", "/users/me/activities/{activity_id}", summary="Delete one of my activities", roles=MEMBERS
)
async def delete_my_custom_activity(ctx: Ctx) -> None:
    """If it is my current activity, I become available."""
    ctx.org_id  # noqa: B018
    await service.delete_custom(ctx.pool, ctx.principal.user_id, ctx.params["activity_id"])


# --- custom settings --------------------------------------------------------------------------


@routes.route("GET", "/users/me/settings", summary="My custom settings", roles=MEMBERS, response=SettingsOut)
async def get_my_settings(ctx: Ctx) -> dict[str, Any]:
    """Settings past their end time are reported off."""
    ctx.org_id  # noqa: B018
    return await settings.get_settings(ctx.pool, ctx.principal.user_id, ctx.now())


@routes.route(
    "PUT",
    "/users/me/settings",
    summary="Change my custom settings",
    roles=MEMBERS,
    body=SettingsIn,
    response=SettingsOut,
)
async def put_my_settings(ctx: Ctx) -> dict[str, Any]:
    """Closed phone, forward all / on busy / on no answer, temporary outgoing caller id, blocking of
    anonymous callers. Forward numbers may be an extension (user or group) or an outside number in
    E.164, national (08-123 456 78) or international (0046...) form."""
    ctx.org_id  # noqa: B018
    fields = ctx.body.model_dump(exclude_unset=True)
    return await settings.put_settings(ctx.pool, ctx.principal.user_id, ctx.now(), fields)
