"""Phonebooks: the organization's shared phonebook and each user's personal one; contacts, marks
(favorite, VIP, blocked) and imports from vCard and CSV files.

Everyone in the organization reads the shared phonebook; admins and operators change it. A personal
phonebook is its owner's alone (an admin sees no one else's). A contact in another organization or
in another user's personal phonebook is a 404, like a missing one. Marks are per user, on any
contact the user sees.
"""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.directory import contacts, imports, marks, search
from pbx_control.directory.drafts import ContactDraft, check, draft_from
from pbx_control.directory.http_query import query_bool, query_int, query_text, read_upload
from pbx_control.directory.schemas import (
    ContactIn,
    ContactOut,
    ContactPatch,
    DirectoryItem,
    ImportReport,
    MarksIn,
    MarksOut,
)

routes = RouteTable("phonebook")
EDITORS = frozenset({"admin", "operator"})


def _may_edit_shared(ctx: Ctx) -> None:
    if ctx.principal.role not in EDITORS:
        raise ApiError(403, "forbidden", "only admins and operators change the shared phonebook")


def _draft(body: ContactIn) -> ContactDraft:
    return draft_from(body.model_dump())


async def _list(ctx: Ctx, scope: search.Scope) -> list[dict[str, Any]]:
    return await search.search(
        ctx.pool,
        ctx.org_id,
        ctx.principal.user_id,
        query_text(ctx, "q"),
        scope=scope,
        favorites_only=query_bool(ctx, "favorites"),
        limit=query_int(ctx, "limit", search.DEFAULT_LIMIT, 1, search.MAX_LIMIT),
        offset=query_int(ctx, "offset", 0, 0, 1_000_000),
    )


async def _create(ctx: Ctx, owner: int | None) -> dict[str, Any]:
    contact = check(_draft(ctx.body))
    async with ctx.pool.acquire() as conn:
        row = await contacts.create_contact(conn, ctx.org_id, owner, ctx.principal.user_id, contact)
    return contacts.contact_out(row)


async def _import(ctx: Ctx, owner: int | None) -> dict[str, Any]:
    data = await read_upload(ctx.request)
    return await imports.import_contacts(ctx.pool, ctx.org_id, owner, data)


_SEARCH_DOC = (
    " Query: q (a name: every word must start a word of the name or company, any case; or a number"
    " prefix in national, 00, E.164 or extension form), favorites=true, limit (1-500, default 100),"
    " offset. Starred (favorite or VIP) first, then alphabetically (Swedish order)."
)
_IMPORT_DOC = (
    " Send the file as the raw body (text/vcard, text/csv) or as the part 'file' of a"
    " multipart/form-data form; at most 5 MiB. vCard 2.1/3.0/4.0 (Outlook, Exchange, Google, iPhone) and"
    " CSV (Google, Outlook, Exchange; comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252) are read."
    " Rows that cannot be imported are listed with their row number and the reason; the others are"
    " imported. A file that is neither vCard nor CSV is a 400 and nothing changes."
)


@routes.route(
    "GET", "/phonebook", summary="Search the shared phonebook", roles=MEMBERS, response=list[DirectoryItem]
)
async def list_phonebook(ctx: Ctx) -> list[dict[str, Any]]:
    return await _list(ctx, "shared")


list_phonebook.__doc__ = "The organization's shared phonebook." + _SEARCH_DOC


@routes.route(
    "POST",
    "/phonebook",
    summary="Add a contact to the shared phonebook",
    roles=EDITORS,
    body=ContactIn,
    response=ContactOut,
    status=201,
)
async def create_shared_contact(ctx: Ctx) -> dict[str, Any]:
    """Numbers: extensions, national (0...) or E.164; each is stored as E.164 or an extension."""
    return await _create(ctx, None)


@routes.route(
    "POST",
    "/phonebook/import",
    summary="Import a vCard or CSV file into the shared phonebook",
    roles=EDITORS,
    response=ImportReport,
)
async def import_shared_contacts(ctx: Ctx) -> dict[str, Any]:
    return await _import(ctx, None)


import_shared_contacts.__doc__ = "Import into the shared phonebook." + _IMPORT_DOC


@routes.route(
    "GET",
    "/users/me/contacts",
    summary="Search my personal phonebook",
    roles=MEMBERS,
    response=list[DirectoryItem],
)
async def list_my_contacts(ctx: Ctx) -> list[dict[str, Any]]:
    return await _list(ctx, "personal")


list_my_contacts.__doc__ = "Your personal phonebook." + _SEARCH_DOC


@routes.route(
    "POST",
    "/users/me/contacts",
    summary="Add a contact to my personal phonebook",
    roles=MEMBERS,
    body=ContactIn,
    response=ContactOut,
    status=201,
)
async def create_my_contact(ctx: Ctx) -> dict[str, Any]:
    """Numbers: extensions, national (0...) or E.164; each is stored as E.164 or an extension."""
    return await _create(ctx, ctx.principal.user_id)


@routes.route(
    "POST",
    "/users/me/contacts/import",
    summary="Import a vCard or CSV file into my personal phonebook",
    roles=MEMBERS,
    response=ImportReport,
)
async def import_my_contacts(ctx: Ctx) -> dict[str, Any]:
    return await _import(ctx, ctx.principal.user_id)


import_my_contacts.__doc__ = "Import into your personal phonebook." + _IMPORT_DOC


@routes.route("GET", "/contacts/{contact_id}", summary="One contact", roles=MEMBERS, response=ContactOut)
async def get_contact(ctx: Ctx) -> dict[str, Any]:
    """A shared contact of your organization or one of your personal contacts, with your marks."""
    row = await contacts.get_visible(ctx.pool, ctx.org_id, ctx.principal.user_id, ctx.params["contact_id"])
    return contacts.contact_out(row)


@routes.route(
    "PATCH",
    "/contacts/{contact_id}",
    summary="Change a contact",
    roles=MEMBERS,
    body=ContactPatch,
    response=ContactOut,
)
async def update_contact(ctx: Ctx) -> dict[str, Any]:
    """Only the fields present change; `numbers` replaces the list. Shared contacts: admins and
    operators. VIP and blocked marks follow the contact's new numbers."""
    async with ctx.pool.acquire() as conn:
        row = await contacts.update_contact(
            conn,
            ctx.org_id,
            ctx.principal.user_id,
            ctx.params["contact_id"],
            ctx.body.model_dump(exclude_unset=True),
            may_edit_shared=ctx.principal.role in EDITORS,
        )
    return contacts.contact_out(row)


@routes.route("DELETE", "/contacts/{contact_id}", summary="Delete a contact", roles=MEMBERS)
async def delete_contact(ctx: Ctx) -> None:
    """Shared contacts: admins and operators. Its VIP/blocked entries leave every caller list."""
    user_id = ctx.principal.user_id
    async with ctx.pool.acquire() as conn:
        current = await contacts.get_visible(conn, ctx.org_id, user_id, ctx.params["contact_id"])
        if current["owner_user_id"] is None:
            _may_edit_shared(ctx)
        await contacts.delete_contact(conn, ctx.org_id, user_id, current["id"])


@routes.route(
    "PUT",
    "/contacts/{contact_id}/marks",
    summary="Mark a contact favorite, VIP or blocked (for me)",
    roles=MEMBERS,
    body=MarksIn,
    response=MarksOut,
)
async def set_contact_marks(ctx: Ctx) -> dict[str, Any]:
    """Only the marks present change. VIP: the contact's numbers ring through your activity, forward
    or closed phone. Blocked: callers from its numbers hear busy and none of your devices rings."""
    body: MarksIn = ctx.body
    user_id = ctx.principal.user_id
    async with ctx.pool.acquire() as conn:
        current = await contacts.get_visible(conn, ctx.org_id, user_id, ctx.params["contact_id"])
        return await marks.set_marks(
            conn, user_id, current["id"], favorite=body.favorite, vip=body.vip, blocked=body.blocked
        )
