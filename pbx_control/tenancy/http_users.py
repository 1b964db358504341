"""Users of the asker's organization.

Everyone may read their own profile (/users/me). Members (user, operator, admin) may list their
organization's directory; only admins see and change the full records. Platform admins belong to
no organization and get 403 here: they manage organizations (see organizations.py), including
adding an admin to one. A user id from another organization is a 404, like a missing one.
"""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import LOGIN_THROTTLE, TOKEN, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, ANYONE, MEMBERS, RouteTable
from pbx_control.auth.throttle import retry_after
from pbx_control.auth.tokens import revoke_user_tokens
from pbx_control.kernel.errors import Forbidden
from pbx_control.tenancy import devices, numbers, organizations, password_links, users
from pbx_control.tenancy.http_devices import SESSIONS
from pbx_control.tenancy.http_password_links import LINKS
from pbx_control.tenancy.schemas import (
    DirectoryEntry,
    MeOut,
    PasswordChange,
    UserCreate,
    UserOut,
    UserUpdate,
)

routes = RouteTable("users")


@routes.route("GET", "/users/me", summary="My profile, devices and numbers", roles=ANYONE, response=MeOut)
async def get_me(ctx: Ctx) -> dict[str, Any]:
    """Devices are listed without secrets; platform admins have no organization, devices or numbers."""
    principal = ctx.principal
    async with ctx.pool.acquire() as conn:
        me = await users.get_user(conn, principal.organization_id, principal.user_id)
        org_id = principal.organization_id
        if org_id is None:
            return {**me, "organization": None, "devices": [], "numbers": []}
        return {
            **me,
            "organization": await organizations.get_organization(conn, org_id),
            "devices": await devices.list_devices(conn, org_id, user_id=principal.user_id),
            "numbers": await numbers.list_numbers(conn, org_id, user_id=principal.user_id),
        }


@routes.route("POST", "/users/me/password", summary="Change my password", roles=ANYONE, body=PasswordChange)
async def change_my_password(ctx: Ctx) -> None:
    """New password too short (or over 72 bytes): 400; wrong current one: 403, counted like a
    failed login (so a stolen token cannot guess the password: 429 after as many). Done: every
    other token of mine is revoked, this one stays valid."""
    b: PasswordChange = ctx.body
    principal = ctx.principal
    throttle = ctx.app[LOGIN_THROTTLE]
    attempt = throttle.begin(principal.username, ctx.request.remote or "")
    if isinstance(attempt, float):
        raise ApiError(
            429,
            "too_many_attempts",
            "too many failed attempts; try again later",
            {"Retry-After": retry_after(attempt)},
        )
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            await users.change_own_password(
                conn, principal.organization_id, principal.user_id, b.current, b.new
            )
            await revoke_user_tokens(conn, principal.user_id, keep=ctx.request[TOKEN])
            await password_links.revoke_links(conn, principal.user_id)
    except Forbidden:
        raise  # a wrong current password stays counted
    except BaseException:
        throttle.cancel(attempt)
        raise
    throttle.succeeded(attempt)


@routes.route(
    "GET",
    "/users",
    summary="The organization's users (directory for non-admins)",
    roles=MEMBERS,
    response=list[UserOut | DirectoryEntry],
)
async def list_users(ctx: Ctx) -> list[UserOut | DirectoryEntry]:
    """Admins get full records; users and operators get id, extension, name and email."""
    rows = await users.list_users(ctx.pool, ctx.org_id)
    if ctx.is_admin:
        return [UserOut.model_validate(r) for r in rows]
    return [DirectoryEntry.model_validate(r) for r in rows]


@routes.route(
    "POST", "/users", summary="Create a user", roles=ADMIN, body=UserCreate, response=UserOut, status=201
)
async def create_user(ctx: Ctx) -> dict[str, Any]:
    """With an email, the user gets the welcome mail (in their language): their username, a link
    to set their password (once, within 7 days) and how to install and sign in to the app; the
    password may then be left out. A mail address that is not one: 400, nothing made."""
    b: UserCreate = ctx.body
    async with ctx.pool.acquire() as conn, conn.transaction():
        user = await users.create_user(
            conn,
            ctx.org_id,
            b.extension,
            b.name,
            b.username,
            b.password,
            b.role,
            b.language,
            b.email,
            b.ring_time,
        )
        await password_links.send_welcome(conn, user["id"], ctx.app[LINKS], ctx.now())
    return user


@routes.route("GET", "/users/{user_id}", summary="One user", roles=ADMIN, response=UserOut)
async def get_user(ctx: Ctx) -> dict[str, Any]:
    return await users.get_user(ctx.pool, ctx.org_id, ctx.params["user_id"])


@routes.route(
    "PATCH", "/users/{user_id}", summary="Change a user", roles=ADMIN, body=UserUpdate, response=UserOut
)
async def update_user(ctx: Ctx) -> dict[str, Any]:
    """Only the fields sent change. A new password also ends the user's sessions (tokens), in the
    same transaction. Demoting or removing the last admin is refused with 409."""
    fields = ctx.body.model_dump(exclude_unset=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        user = await users.update_user(conn, ctx.org_id, ctx.params["user_id"], **fields)
        if "password" in fields:
            await revoke_user_tokens(conn, user["id"])
            await password_links.revoke_links(conn, user["id"])
    return user


@routes.route("DELETE", "/users/{user_id}", summary="Delete a user (and their devices)", roles=ADMIN)
async def delete_user(ctx: Ctx) -> None:
    """Their devices' registrations are dropped and their calls hung up (see DELETE /devices/{id})."""
    names = await users.delete_user(ctx.pool, ctx.org_id, ctx.params["user_id"])
    await ctx.app[SESSIONS].retire(names)
