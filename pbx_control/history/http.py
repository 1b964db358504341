"""The call history over HTTP: my history (filters, cursor paging), missed calls marked seen, and
an organization's history for its admins (another organization's user: 404)."""

from __future__ import annotations

from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.history import repository
from pbx_control.history.repository import FILTERS, Filter, Page
from pbx_control.history.schemas import HistoryPageOut, SeenOut, SeenUpToIn
from pbx_control.kernel.db import transaction

routes = RouteTable("history")
MAX_LIMIT = 200


def _filter(ctx: Ctx) -> Filter:
    raw = ctx.request.query.get("filter", "all")
    if raw not in FILTERS:
        raise ApiError(400, "invalid", "filter must be one of all, missed, voicemail")
    return raw


def _limit(ctx: Ctx) -> int:
    raw = ctx.request.query.get("limit", "")
    if raw == "":
        return 50
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "invalid", f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def _cursor(ctx: Ctx) -> str | None:
    return ctx.request.query.get("cursor") or None


def _out(page: Page) -> dict[str, object]:
    return {"items": page.items, "next_cursor": page.next_cursor, "unseen_missed": page.unseen_missed}


@routes.route(
    "GET", "/users/me/history", summary="My calls, newest first", roles=MEMBERS, response=HistoryPageOut
)
async def get_my_history(ctx: Ctx) -> dict[str, object]:
    """Query: `filter` (all | missed | voicemail), `limit` (1..200, default 50), `cursor` (the
    `next_cursor` of the previous page)."""
    filter_, limit, cursor = _filter(ctx), _limit(ctx), _cursor(ctx)
    async with ctx.pool.acquire() as conn:
        page = await repository.user_history(conn, ctx.org_id, ctx.principal.user_id, filter_, limit, cursor)
    return _out(page)


@routes.route(
    "POST",
    "/users/me/history/{history_id}/seen",
    summary="Mark one missed call seen",
    roles=MEMBERS,
    response=SeenOut,
)
async def mark_my_call_seen(ctx: Ctx) -> dict[str, int]:
    async with transaction(ctx.pool) as conn:
        await repository.mark_seen(conn, ctx.principal.user_id, ctx.params["history_id"])
        return {"marked": 1, "unseen_missed": await repository.unseen_missed(conn, ctx.principal.user_id)}


@routes.route(
    "POST",
    "/users/me/history/seen",
    summary="Mark my missed calls seen up to one",
    roles=MEMBERS,
    body=SeenUpToIn,
    response=SeenOut,
)
async def mark_my_calls_seen(ctx: Ctx) -> dict[str, int]:
    """`up_to`: a history id; it and every older missed call of mine are marked seen."""
    body: SeenUpToIn = ctx.body
    async with transaction(ctx.pool) as conn:
        marked = await repository.mark_seen_up_to(conn, ctx.principal.user_id, body.up_to)
        return {
            "marked": marked,
            "unseen_missed": await repository.unseen_missed(conn, ctx.principal.user_id),
        }


@routes.route(
    "GET", "/history", summary="The organization's calls (admins)", roles=ADMIN, response=HistoryPageOut
)
async def get_org_history(ctx: Ctx) -> dict[str, object]:
    """Query: `user_id` (one user's history, as they see it), `filter`, `limit`, `cursor`."""
    filter_, limit, cursor = _filter(ctx), _limit(ctx), _cursor(ctx)
    raw_user = ctx.request.query.get("user_id")
    async with ctx.pool.acquire() as conn:
        if raw_user:
            if not raw_user.isascii() or not raw_user.isdigit() or not 1 <= int(raw_user) < 2**63:
                raise ApiError(400, "invalid", "user_id must be a positive whole number")
            page = await repository.user_history(conn, ctx.org_id, int(raw_user), filter_, limit, cursor)
        else:
            page = await repository.org_history(conn, ctx.org_id, filter_, limit, cursor)
    return _out(page)
