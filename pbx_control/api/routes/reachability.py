"""A user's own reachability: current activity (spoken redirect), custom activities, custom settings.

Everything is the asker's own (`/users/me/...`). Bad input is a 400 saying why, and changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.api.schemas import Id, Input
from pbx_control.reachability import activities as acts
from pbx_control.reachability import service, settings

routes = RouteTable("reachability")

Destination = Literal["voicemail", "forward", "operator", "ring"]


# --- schemas ----------------------------------------------------------------------------------


class ActivityIn(Input):
    """At most one of duration_minutes, until and until_further_notice; none: the activity's
    default (Busy 15 min, Meeting 1 h, Lunch 1 h, Gone for the day: the next working day)."""

    activity: str = Field(
        description="available | busy | meeting | lunch | gone | custom", examples=["meeting"]
    )
    custom_activity_id: Id | None = Field(default=None, description="with activity custom")
    duration_minutes: int | None = Field(
        default=None, description="busy: 15, 30 or 45; meeting: 60, 120 or 180; lunch: 60; custom: 1 to 43200"
    )
    until: datetime | None = Field(
        default=None, description="end time with a timezone offset, within 31 days"
    )
    until_further_notice: bool = False
    note: str | None = Field(
        default=None, description="what colleagues see; at most 200 characters; absent: kept"
    )


class ActivityOut(BaseModel):
    activity: str
    label: str
    custom_activity_id: int | None
    until: datetime | None = Field(description="null: until further notice (or available)")
    until_further_notice: bool
    destination: str | None = Field(description="where callers go after the announcement")
    forward_to: str | None
    note: str
    announcement: str | None = Field(description="the sentence callers hear")
    announcement_ready: bool = Field(description="its audio is made; until then calls skip it")
    set_at: datetime | None


class BuiltinActivity(BaseModel):
    activity: str
    label_sv: str
    label_en: str
    durations: list[int] = Field(description="allowed duration_minutes; empty: none (gone: next working day)")
    default_minutes: int | None


class CustomActivityIn(Input):
    label: str = Field(description="1 to 60 characters, any script; no control characters")
    spoken_text: str = Field(
        description="what callers hear after your name, in your language: 'är på kundbesök'",
        examples=["är på kurs"],
    )
    default_minutes: int | None = Field(default=None, description="1 to 43200; null: until further notice")
    destination: Destination = "voicemail"
    forward_to: str | None = Field(
        default=None, description="with destination forward: extension or phone number"
    )


class CustomActivityUpdate(Input):
    label: str | None = None
    spoken_text: str | None = None
    default_minutes: int | None = None
    destination: Destination | None = None
    forward_to: str | None = None


class CustomActivityOut(BaseModel):
    id: int
    label: str
    spoken_text: str
    default_minutes: int | None
    destination: str
    forward_to: str | None
    created_at: datetime


class ActivityChoices(BaseModel):
    builtin: list[BuiltinActivity]
    custom: list[CustomActivityOut]


class SettingsIn(Input):
    """Only the fields sent change; null switches a setting off. An *_until end time (with a
    timezone offset, within a year) belongs to its setting; left out: until further notice."""

    closed: bool | None = Field(default=None, description="closed phone: every call to voicemail, VIP aside")
    closed_until: datetime | None = None
    forward_all: str | None = Field(
        default=None, description="extension, or phone number out through the trunk"
    )
    forward_all_until: datetime | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    forward_no_answer_seconds: int | None = Field(default=None, description="5 to 120 (default 20)")
    outgoing_callerid: Literal["main", "own", "hidden"] | None = Field(
        default=None, description="temporary outgoing caller id: main number, own number, or hidden"
    )
    outgoing_callerid_until: datetime | None = None
    block_anonymous: bool | None = Field(default=None, description="callers without a number hear busy")


class SettingsOut(BaseModel):
    closed: bool
    closed_until: datetime | None
    forward_all: str | None
    forward_all_until: datetime | None
    forward_busy: str | None
    forward_no_answer: str | None
    forward_no_answer_seconds: int
    outgoing_callerid: str | None
    outgoing_callerid_until: datetime | None
    block_anonymous: bool


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
