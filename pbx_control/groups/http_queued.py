"""GET /calls/queued: the callers waiting in the organization's answer groups now (queued.py).
Documented with the other call routes (tag `calls`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.context import AMI, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.groups import queued
from pbx_control.groups.schemas import QueuedOut
from pbx_control.logs import get_logger

log = get_logger(__name__)
routes = RouteTable("calls")
# Built with the AMI hooks (feature.py): None where this process has no AMI connection.
QUEUE_STATUS: web.AppKey[queued.QueueStatus | None] = web.AppKey("queue_status")


@routes.route(
    "GET",
    "/calls/queued",
    summary="Callers waiting in answer groups now",
    roles=MEMBERS,
    response=list[QueuedOut],
)
async def list_queued(ctx: Ctx) -> list[dict[str, Any]]:
    """Longest waiting first. Operators and admins: every group of the organization; a user: the
    groups they may answer. 503 when this process does not drive Asterisk (no AMI)."""
    ami = ctx.app.get(AMI)
    status = ctx.app.get(QUEUE_STATUS)
    if ami is None or status is None:
        raise ApiError(503, "call_control_unavailable", "this service does not run the AMI bridge")
    try:
        found = await status.now(ami)
    except Exception:
        log.warning("groups.queue_status_failed", exc_info=True)
        raise ApiError(503, "ami_unavailable", "Asterisk did not answer; try again") from None
    p = ctx.principal
    return await queued.queued(ctx.pool, ctx.org_id, p.user_id, p.role in ("operator", "admin"), found)
