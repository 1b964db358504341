"""Set-password links over HTTP: asking for a reset mail, setting a password with a link (both
without a token: the user cannot sign in yet), and an admin sending a user's welcome mail again.

A reset request is answered the same (202) whether or not the username or address exists, and is
throttled per login and per client address whether or not it does (429 says nothing either)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, PUBLIC, RouteTable
from pbx_control.auth.throttle import LoginThrottle, retry_after
from pbx_control.kernel.db import transaction
from pbx_control.kernel.errors import Invalid
from pbx_control.logs import get_logger
from pbx_control.tenancy import password_links, users
from pbx_control.tenancy.password_links import LinkRefused, Links
from pbx_control.tenancy.schemas import Accepted, PasswordSet, ResetRequest, SetPassword

routes = RouteTable("auth")
log = get_logger(__name__)
LINKS = web.AppKey("password_links", Links)
# Reset requests counted per login and per client address (in memory, this process only).
RESET_THROTTLE = web.AppKey("reset_throttle", LoginThrottle)
RESET_PER_LOGIN = 3
RESET_PER_ADDRESS = 10
RESET_WINDOW_S = 3600.0
_ACCEPTED = {"message": "if the username or address is known, a mail with a link is on its way"}


@routes.route(
    "POST",
    "/auth/password-reset",
    summary="Ask for a mail with a link to set a new password",
    roles=PUBLIC,
    body=ResetRequest,
    response=Accepted,
    status=202,
)
async def request_password_reset(ctx: Ctx) -> dict[str, Any]:
    """`login` is a username or a mail address. Always 202 with the same body: nobody learns
    whether it exists. At most 3 requests per login and 10 per client address an hour, then 429
    (also for logins that do not exist). The link works once, for an hour."""
    b: ResetRequest = ctx.body
    attempt = ctx.app[RESET_THROTTLE].begin(b.login, ctx.request.remote or "")
    if isinstance(attempt, float):
        raise ApiError(
            429,
            "too_many_attempts",
            "too many reset requests; try again later",
            {"Retry-After": retry_after(attempt)},
        )
    sent = await password_links.request_reset(ctx.pool, b.login, ctx.app[LINKS], ctx.now())
    log.info("password_reset_requested", mails=sent)
    return _ACCEPTED


@routes.route(
    "POST",
    "/auth/set-password",
    summary="Set my password with the link of a welcome or reset mail",
    roles=PUBLIC,
    body=SetPassword,
    response=PasswordSet,
)
async def set_password_with_link(ctx: Ctx) -> dict[str, Any]:
    """A password against the rules: 400 and the link still works. A link used before: 410
    `link_used`; expired: 410 `link_expired`; never issued (or replaced): 400 `link_invalid`.
    Done: every other link and every API token of the user stop working; sign in with the new
    password."""
    b: SetPassword = ctx.body
    try:
        done = await password_links.set_password(ctx.pool, b.token, b.password, ctx.now())
    except LinkRefused as exc:
        raise ApiError(400 if exc.code == "link_invalid" else 410, exc.code, exc.message) from None
    log.info("password_set_with_link", user_id=done["user_id"])
    return {"username": done["username"]}


@routes.route(
    "POST",
    "/users/{user_id}/welcome-mail",
    summary="Send a user's welcome mail again (a new link)",
    roles=ADMIN,
    response=Accepted,
    status=202,
)
async def send_welcome_mail(ctx: Ctx) -> dict[str, Any]:
    """The user's earlier links keep working until used or expired. A user without a mail
    address: 400."""
    async with transaction(ctx.pool) as conn:
        user = await users.get_user(conn, ctx.org_id, ctx.params["user_id"])
        if not await password_links.send_welcome(conn, user["id"], ctx.app[LINKS], ctx.now()):
            raise Invalid("the user has no mail address")
    return {"message": "the welcome mail is on its way"}
