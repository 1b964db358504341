"""Organizations; platform admins only.

Platform admins create, change and delete organizations and can add an admin to one (the first at
creation, or later to recover access); everything inside an organization (users, devices,
numbers) is managed by that organization's admins. on_organizations_changed runs after an
organization is created or deleted (after the commit); its failures are logged only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from pbx_control.api.context import Ctx
from pbx_control.api.registry import PLATFORM, RouteTable
from pbx_control.kernel.db import Conn
from pbx_control.logs import get_logger
from pbx_control.tenancy import organizations, password_links, users
from pbx_control.tenancy.http_password_links import LINKS
from pbx_control.tenancy.schemas import (
    AdminCreate,
    OrganizationCreate,
    OrganizationCreated,
    OrganizationOut,
    OrganizationUpdate,
    UserOut,
)

routes = RouteTable("organizations")
log = get_logger(__name__)
# Awaited after an organization is created or deleted (the service: its dialplan context).
ORGANIZATIONS_CHANGED: web.AppKey[Callable[[], Awaitable[None]] | None] = web.AppKey("organizations_changed")


async def organizations_changed(app: web.Application) -> None:
    """Run the hook; a failure is logged, never returned to the client."""
    hook = app.get(ORGANIZATIONS_CHANGED)
    if hook is None:
        return
    try:
        await hook()
    except Exception:
        log.exception("organizations_changed_hook_failed")


async def _create_admin(ctx: Ctx, conn: Conn, org_id: int, a: AdminCreate) -> dict[str, Any]:
    """The admin, and their welcome mail when they have an address."""
    admin = await users.create_user(
        conn, org_id, a.extension, a.name, a.username, a.password, "admin", a.language, a.email
    )
    await password_links.send_welcome(conn, admin["id"], ctx.app[LINKS], ctx.now())
    return admin


@routes.route(
    "GET", "/organizations", summary="All organizations", roles=PLATFORM, response=list[OrganizationOut]
)
async def list_organizations(ctx: Ctx) -> list[dict[str, Any]]:
    return await organizations.list_organizations(ctx.pool)


@routes.route(
    "POST",
    "/organizations",
    summary="Create an organization (and its first admin)",
    roles=PLATFORM,
    body=OrganizationCreate,
    response=OrganizationCreated,
    status=201,
)
async def create_organization(ctx: Ctx) -> dict[str, Any]:
    """The organization and its optional first admin are created in one transaction: if the admin
    is invalid, no organization is created."""
    b: OrganizationCreate = ctx.body
    async with ctx.pool.acquire() as conn, conn.transaction():
        org = await organizations.create_organization(conn, b.slug, b.name, b.main_number, b.timezone)
        admin = await _create_admin(ctx, conn, org["id"], b.admin) if b.admin is not None else None
    await organizations_changed(ctx.app)
    return {**org, "admin": admin}


@routes.route(
    "GET", "/organizations/{org_id}", summary="One organization", roles=PLATFORM, response=OrganizationOut
)
async def get_organization(ctx: Ctx) -> dict[str, Any]:
    return await organizations.get_organization(ctx.pool, ctx.params["org_id"])


@routes.route(
    "PATCH",
    "/organizations/{org_id}",
    summary="Change an organization",
    roles=PLATFORM,
    body=OrganizationUpdate,
    response=OrganizationOut,
)
async def update_organization(ctx: Ctx) -> dict[str, Any]:
    """name, main_number (null clears it), timezone, working_hours. The slug is permanent."""
    fields = ctx.body.model_dump(exclude_unset=True)
    return await organizations.update_organization(ctx.pool, ctx.params["org_id"], **fields)


@routes.route(
    "DELETE", "/organizations/{org_id}", summary="Delete an organization and all it holds", roles=PLATFORM
)
async def delete_organization(ctx: Ctx) -> None:
    await organizations.delete_organization(ctx.pool, ctx.params["org_id"])
    await organizations_changed(ctx.app)


@routes.route(
    "POST",
    "/organizations/{org_id}/admins",
    summary="Add an admin to an organization",
    roles=PLATFORM,
    body=AdminCreate,
    response=UserOut,
    status=201,
)
async def create_organization_admin(ctx: Ctx) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        return await _create_admin(ctx, conn, ctx.params["org_id"], ctx.body)
