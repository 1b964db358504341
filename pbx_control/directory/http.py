"""The organization's directory (colleagues, answer groups, the shared and your personal phonebook
in one search), starred colleagues and groups, and your caller list (VIP and blocked numbers)."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.directory import marks, search
from pbx_control.directory.http_query import query_bool, query_int, query_text
from pbx_control.directory.schemas import DirectoryItem

routes = RouteTable("directory")


@routes.route(
    "GET", "/directory", summary="Search colleagues, groups and phonebooks", roles=MEMBERS,
    response=list[DirectoryItem],
)  # fmt: skip
async def search_directory(ctx: Ctx) -> list[dict[str, Any]]:
    """Colleagues, answer groups, the shared phonebook and your personal phonebook. Query: q (a
    name: every word must start a word of the name or company, any case; or a number prefix in
    national, 00, E.164 or extension form), favorites=true (starred only), limit (1-500, default
    100), offset. Starred (favorite or VIP) first, then alphabetically (Swedish order)."""
    return await search.search(
        ctx.pool,
        ctx.org_id,
        ctx.principal.user_id,
        query_text(ctx, "q"),
        scope="directory",
        favorites_only=query_bool(ctx, "favorites"),
        limit=query_int(ctx, "limit", search.DEFAULT_LIMIT, 1, search.MAX_LIMIT),
        offset=query_int(ctx, "offset", 0, 0, 1_000_000),
    )


@routes.route("PUT", "/users/me/favorites/users/{user_id}", summary="Star a colleague", roles=MEMBERS)
async def star_colleague(ctx: Ctx) -> None:
    """Starred colleagues come first in the directory."""
    p = ctx.principal
    await marks.set_favorite_colleague(ctx.pool, ctx.org_id, p.user_id, ctx.params["user_id"], True)


@routes.route("DELETE", "/users/me/favorites/users/{user_id}", summary="Unstar a colleague", roles=MEMBERS)
async def unstar_colleague(ctx: Ctx) -> None:
    p = ctx.principal
    await marks.set_favorite_colleague(ctx.pool, ctx.org_id, p.user_id, ctx.params["user_id"], False)


@routes.route("PUT", "/users/me/favorites/groups/{group_id}", summary="Star an answer group", roles=MEMBERS)
async def star_group(ctx: Ctx) -> None:
    p = ctx.principal
    await marks.set_favorite_group(ctx.pool, ctx.org_id, p.user_id, ctx.params["group_id"], True)


@routes.route(
    "DELETE", "/users/me/favorites/groups/{group_id}", summary="Unstar an answer group", roles=MEMBERS
)
async def unstar_group(ctx: Ctx) -> None:
    p = ctx.principal
    await marks.set_favorite_group(ctx.pool, ctx.org_id, p.user_id, ctx.params["group_id"], False)
