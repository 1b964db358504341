"""The organization's directory (colleagues, answer groups, the shared and your personal phonebook
in one search), starred colleagues and groups, and your caller list (VIP and blocked numbers)."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.api.routes.directory_http import query_bool, query_int, query_text
from pbx_control.api.routes.directory_schemas import CallerListEntry, CallerListIn, DirectoryItem
from pbx_control.directory import marks, search
from pbx_control.directory.numbers import contact_number
from pbx_control.tenancy.errors import Invalid

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


@routes.route(
    "GET",
    "/users/me/caller-lists",
    summary="My VIP and blocked numbers",
    roles=MEMBERS,
    response=list[CallerListEntry],
)
async def list_caller_lists(ctx: Ctx) -> list[dict[str, Any]]:
    """Raw entries (contact_id null) and those that come from your marks on contacts."""
    return await marks.list_caller_list(ctx.pool, ctx.principal.user_id)


@routes.route(
    "POST",
    "/users/me/caller-lists",
    summary="Mark a number VIP or blocked",
    roles=MEMBERS,
    body=CallerListIn,
    response=CallerListEntry,
    status=201,
)
async def add_caller_list_entry(ctx: Ctx) -> dict[str, Any]:
    """For numbers with no contact. The number may be an extension, national or E.164. Blocking a
    number replaces its VIP entry and the other way round."""
    body: CallerListIn = ctx.body
    try:
        number = contact_number(body.number)
    except Invalid as exc:
        raise Invalid(f"malformed number: {exc.message}") from None
    async with ctx.pool.acquire() as conn:
        return await marks.add_raw(conn, ctx.principal.user_id, number, body.kind)


@routes.route(
    "DELETE", "/users/me/caller-lists/{entry_id}", summary="Remove a VIP or blocked number", roles=MEMBERS
)
async def delete_caller_list_entry(ctx: Ctx) -> None:
    """Entries that come from a contact mark are removed by changing the contact's marks (409)."""
    async with ctx.pool.acquire() as conn:
        await marks.remove_raw(conn, ctx.principal.user_id, ctx.params["entry_id"])
