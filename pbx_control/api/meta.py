"""The OpenAPI document itself."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import OPENAPI, Ctx
from pbx_control.api.registry import PUBLIC, RouteTable

routes = RouteTable("meta")


@routes.route(
    "GET", "/openapi.json", summary="This API's OpenAPI 3.1 document", roles=PUBLIC, response=dict[str, Any]
)
async def openapi_document(ctx: Ctx) -> dict[str, Any]:
    return ctx.app[OPENAPI]
