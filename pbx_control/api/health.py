"""Liveness and readiness: the database, and whatever the service wiring reports (AMI, AGI)."""

from __future__ import annotations

import asyncio
from typing import Any

from pbx_control.api.context import HEALTH_PROBE, Ctx, Reply
from pbx_control.api.registry import PUBLIC, RouteTable
from pbx_control.api.schemas import HealthOut
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")
routes = RouteTable("health")
DB_TIMEOUT_S = 1.0
PROBE_TIMEOUT_S = 2.0


async def _database_ok(ctx: Ctx) -> bool:
    try:
        async with asyncio.timeout(DB_TIMEOUT_S):
            one: int | None = await ctx.pool.fetchval("SELECT 1")
            return one == 1
    except Exception:
        log.warning("health_database_failed", exc_info=True)
        return False


async def _components(ctx: Ctx) -> dict[str, Any]:
    probe = ctx.app.get(HEALTH_PROBE)
    if probe is None:
        return {"ami": {"configured": False}, "agi": {"configured": False}}
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            result = dict(await probe())
    except Exception:
        log.warning("health_probe_failed", exc_info=True)
        failed = {"ok": False, "error": "health probe failed"}
        return {"ami": failed, "agi": failed}
    result.setdefault("ami", {"configured": False})
    result.setdefault("agi", {"configured": False})
    return result


@routes.route(
    "GET",
    "/health",
    summary="Health of the database, AMI and AGI",
    roles=PUBLIC,
    response=HealthOut,
    also=(503,),
)
async def health(ctx: Ctx) -> Reply:
    """200 with status "ok", or 503 with status "degraded" when the database does not answer
    within a second or a component reported by the health probe has "ok": false."""
    db_ok = await _database_ok(ctx)
    components = await _components(ctx)
    degraded = not db_ok or any(isinstance(c, dict) and c.get("ok") is False for c in components.values())
    body = {"status": "degraded" if degraded else "ok", "database": {"ok": db_ok}, **components}
    return Reply(body, 503 if degraded else 200)
