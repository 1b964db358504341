"""SIP trunks to carriers (platform-wide); platform admins only."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import PLATFORM, RouteTable
from pbx_control.tenancy import trunks
from pbx_control.tenancy.schemas import TrunkCreate, TrunkOut

routes = RouteTable("trunks")


@routes.route("GET", "/trunks", summary="All trunks", roles=PLATFORM, response=list[TrunkOut])
async def list_trunks(ctx: Ctx) -> list[dict[str, Any]]:
    return await trunks.list_trunks(ctx.pool)


@routes.route(
    "POST", "/trunks", summary="Add a trunk", roles=PLATFORM, body=TrunkCreate, response=TrunkOut, status=201
)
async def create_trunk(ctx: Ctx) -> dict[str, Any]:
    b: TrunkCreate = ctx.body
    return await trunks.create_trunk(ctx.pool, b.name, b.host, b.port, b.match)


@routes.route("DELETE", "/trunks/{trunk_id}", summary="Remove a trunk", roles=PLATFORM)
async def delete_trunk(ctx: Ctx) -> None:
    await trunks.delete_trunk(ctx.pool, ctx.params["trunk_id"])
