"""External numbers (DIDs) of the asker's organization (admins), and the platform admin's side:
assigning numbers and number ranges to organizations (tenancy/number_ranges.py)."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import ADMIN, PLATFORM, RouteTable
from pbx_control.tenancy import number_ranges, numbers, organizations
from pbx_control.tenancy.schemas import (
    NumberCreate,
    NumberOut,
    NumberRangeCreate,
    NumberRangeOut,
    NumberUpdate,
)

routes = RouteTable("numbers")


@routes.route("GET", "/numbers", summary="The organization's numbers", roles=ADMIN, response=list[NumberOut])
async def list_numbers(ctx: Ctx) -> list[dict[str, Any]]:
    return await numbers.list_numbers(ctx.pool, ctx.org_id)


@routes.route(
    "POST", "/numbers", summary="Add a number", roles=ADMIN, body=NumberCreate, response=NumberOut, status=201
)
async def create_number(ctx: Ctx) -> dict[str, Any]:
    """Accepts E.164 or Swedish national format; stored as E.164. user_id is optional. Only a
    number of one of the organization's ranges (given by the platform admin): any other is a 403,
    the same whether it is free or another organization's; one the organization has already: 409."""
    b: NumberCreate = ctx.body
    return await numbers.create_number(ctx.pool, ctx.org_id, b.number, b.user_id, from_ranges=True)


@routes.route(
    "PATCH",
    "/numbers/{number_id}",
    summary="Point a number at a user (or none)",
    roles=ADMIN,
    body=NumberUpdate,
    response=NumberOut,
)
async def update_number(ctx: Ctx) -> dict[str, Any]:
    return await numbers.assign_number(ctx.pool, ctx.org_id, ctx.params["number_id"], ctx.body.user_id)


@routes.route("DELETE", "/numbers/{number_id}", summary="Remove a number", roles=ADMIN)
async def delete_number(ctx: Ctx) -> None:
    await numbers.delete_number(ctx.pool, ctx.org_id, ctx.params["number_id"])


@routes.route(
    "GET",
    "/organizations/{org_id}/numbers",
    summary="An organization's numbers (platform)",
    roles=PLATFORM,
    response=list[NumberOut],
)
async def list_organization_numbers(ctx: Ctx) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        org = await organizations.get_organization(conn, ctx.params["org_id"])
        return await numbers.list_numbers(conn, org["id"])


@routes.route(
    "POST",
    "/organizations/{org_id}/numbers",
    summary="Assign a number to an organization (platform)",
    roles=PLATFORM,
    body=NumberCreate,
    response=NumberOut,
    status=201,
)
async def assign_organization_number(ctx: Ctx) -> dict[str, Any]:
    """Any number that no organization holds and that is in no other organization's range (409
    otherwise); user_id, if given, is a user of that organization."""
    b: NumberCreate = ctx.body
    async with ctx.pool.acquire() as conn, conn.transaction():
        org = await organizations.get_organization(conn, ctx.params["org_id"])
        return await numbers.create_number(conn, org["id"], b.number, b.user_id)


@routes.route(
    "GET",
    "/organizations/{org_id}/number-ranges",
    summary="An organization's number ranges (platform)",
    roles=PLATFORM,
    response=list[NumberRangeOut],
)
async def list_number_ranges(ctx: Ctx) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        org = await organizations.get_organization(conn, ctx.params["org_id"])
        return await number_ranges.list_ranges(conn, org["id"])


@routes.route(
    "POST",
    "/organizations/{org_id}/number-ranges",
    summary="Give an organization a range of numbers its admin may add (platform)",
    roles=PLATFORM,
    body=NumberRangeCreate,
    response=NumberRangeOut,
    status=201,
)
async def create_number_range(ctx: Ctx) -> dict[str, Any]:
    """first..last, as many digits each, at most a million numbers. 409 when it overlaps another
    organization's range or holds a number another organization has."""
    b: NumberRangeCreate = ctx.body
    return await number_ranges.create_range(ctx.pool, ctx.params["org_id"], b.first, b.last)


@routes.route(
    "DELETE",
    "/organizations/{org_id}/number-ranges/{range_id}",
    summary="Take a number range back (platform)",
    roles=PLATFORM,
)
async def delete_number_range(ctx: Ctx) -> None:
    """The numbers the organization took from it stay its own (DELETE /numbers/{id} frees one)."""
    await number_ranges.delete_range(ctx.pool, ctx.params["org_id"], ctx.params["range_id"])
