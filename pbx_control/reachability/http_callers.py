"""A user's VIP and blocked callers (`/users/me/caller-lists`): numbers that ring through a
diversion, and numbers that hear busy and never ring. Marks on contacts are set through the
phonebook's routes and show up here too."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.api.schemas import Input
from pbx_control.directory.numbers import contact_number
from pbx_control.directory.schemas import NumberText
from pbx_control.kernel.errors import Invalid
from pbx_control.reachability import callers

routes = RouteTable("reachability")


class CallerListIn(Input):
    number: str = NumberText
    kind: Literal["vip", "blocked"]


class CallerListEntry(BaseModel):
    id: int
    number: str
    kind: Literal["vip", "blocked"]
    contact_id: int | None = Field(description="set when the entry comes from a marked contact")
    contact_name: str | None
    created_at: datetime


@routes.route(
    "GET",
    "/users/me/caller-lists",
    summary="My VIP and blocked numbers",
    roles=MEMBERS,
    response=list[CallerListEntry],
)
async def list_caller_lists(ctx: Ctx) -> list[dict[str, Any]]:
    """Raw entries (contact_id null) and those that come from your marks on contacts."""
    return await callers.list_caller_list(ctx.pool, ctx.principal.user_id)


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
        return await callers.add_raw(conn, ctx.principal.user_id, number, body.kind)


@routes.route(
    "DELETE", "/users/me/caller-lists/{entry_id}", summary="Remove a VIP or blocked number", roles=MEMBERS
)
async def delete_caller_list_entry(ctx: Ctx) -> None:
    """Entries that come from a contact mark are removed by changing the contact's marks (409)."""
    async with ctx.pool.acquire() as conn:
        await callers.remove_raw(conn, ctx.principal.user_id, ctx.params["entry_id"])
