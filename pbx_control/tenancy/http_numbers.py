"""External numbers (DIDs) of the asker's organization; admins only."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import ADMIN, RouteTable
from pbx_control.tenancy import numbers
from pbx_control.tenancy.schemas import NumberCreate, NumberOut, NumberUpdate

routes = RouteTable("numbers")


@routes.route("GET", "/numbers", summary="The organization's numbers", roles=ADMIN, response=list[NumberOut])
async def list_numbers(ctx: Ctx) -> list[dict[str, Any]]:
    return await numbers.list_numbers(ctx.pool, ctx.org_id)


@routes.route(
    "POST", "/numbers", summary="Add a number", roles=ADMIN, body=NumberCreate, response=NumberOut, status=201
)
async def create_number(ctx: Ctx) -> dict[str, Any]:
    """Accepts E.164 or Swedish national format; stored as E.164. user_id is optional."""
    b: NumberCreate = ctx.body
    return await numbers.create_number(ctx.pool, ctx.org_id, b.number, b.user_id)


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
