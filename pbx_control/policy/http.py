"""The call policy over HTTP: admins read and change the organization's policy and narrow a user's;
everyone reads their own effective policy. Another organization's user is a 404."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.kernel.errors import Invalid
from pbx_control.policy import repository
from pbx_control.policy.model import USES, CallPolicy, UserNarrowing
from pbx_control.policy.schemas import NarrowingIn, NarrowingOut, PolicyIn, PolicyOut

routes = RouteTable("policy")


def _out(policy: CallPolicy) -> dict[str, Any]:
    return {
        **{use: sorted(policy.allowed(use)) for use in USES},
        "max_outside_calls": policy.max_outside_calls,
        "max_call_seconds": policy.max_call_seconds,
    }


async def _user_out(ctx: Ctx, user_id: int, narrowing: UserNarrowing | None = None) -> dict[str, Any]:
    n = narrowing or await repository.narrowing(ctx.pool, ctx.org_id, user_id)
    return {
        "dial": sorted(n.dial) if n.dial is not None else None,
        "forward": sorted(n.forward) if n.forward is not None else None,
        "transfer": sorted(n.transfer) if n.transfer is not None else None,
        "effective": _out(await repository.effective(ctx.pool, ctx.org_id, user_id)),
    }


@routes.route(
    "GET", "/call-policy", summary="The organization's call policy", roles=ADMIN, response=PolicyOut
)
async def get_call_policy(ctx: Ctx) -> dict[str, Any]:
    """Which classes of outside numbers may be dialled, forwarded to, transferred to and used as
    group overflow; the most concurrent outside calls and the longest one (null: no limit)."""
    return _out(await repository.org_policy(ctx.pool, ctx.org_id))


@routes.route(
    "PUT",
    "/call-policy",
    summary="Change the organization's call policy",
    roles=ADMIN,
    body=PolicyIn,
    response=PolicyOut,
)
async def put_call_policy(ctx: Ctx) -> dict[str, Any]:
    """Only the fields sent change; the next call follows the new policy. Lists may not be null
    (send [] to allow no outside class); the limits may (no limit)."""
    changes = ctx.body.model_dump(exclude_unset=True)
    for use in USES:
        if use in changes and changes[use] is None:
            raise Invalid(f"{use} must be a list of classes (send [] to allow none)")
    return _out(await repository.save_org(ctx.pool, ctx.org_id, changes))


@routes.route(
    "GET",
    "/users/{user_id}/call-policy",
    summary="A user's narrowing of the call policy",
    roles=ADMIN,
    response=NarrowingOut,
)
async def get_user_call_policy(ctx: Ctx) -> dict[str, Any]:
    """null: as the organization; `effective` is what applies to the user's calls."""
    return await _user_out(ctx, ctx.params["user_id"])


@routes.route(
    "PUT",
    "/users/{user_id}/call-policy",
    summary="Narrow a user's call policy",
    roles=ADMIN,
    body=NarrowingIn,
    response=NarrowingOut,
)
async def put_user_call_policy(ctx: Ctx) -> dict[str, Any]:
    """A list narrows the user to those classes (never beyond the organization's); null gives
    the use back to the organization. Only the fields sent change."""
    user_id = ctx.params["user_id"]
    saved = await repository.save_user(ctx.pool, ctx.org_id, user_id, ctx.body.model_dump(exclude_unset=True))
    return await _user_out(ctx, user_id, saved)


@routes.route(
    "GET", "/users/me/call-policy", summary="My effective call policy", roles=MEMBERS, response=PolicyOut
)
async def get_my_call_policy(ctx: Ctx) -> dict[str, Any]:
    """The organization's policy narrowed by what an admin set for me."""
    return _out(await repository.effective(ctx.pool, ctx.org_id, ctx.principal.user_id))
