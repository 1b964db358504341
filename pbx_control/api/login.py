"""Login and logout."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import LOGIN_THROTTLE, TOKEN, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ANYONE, PUBLIC, RouteTable
from pbx_control.api.schemas import LoginIn, LoginOut
from pbx_control.auth.login import authenticate
from pbx_control.auth.throttle import retry_after
from pbx_control.auth.tokens import issue_token, revoke_token, revoke_user_tokens
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")
routes = RouteTable("auth")


@routes.route(
    "POST",
    "/auth/login",
    summary="Log in; returns a bearer token",
    roles=PUBLIC,
    body=LoginIn,
    response=LoginOut,
)
async def login(ctx: Ctx) -> dict[str, Any]:
    """A wrong username and a wrong password give the same 401 and take about the same time.
    Too many failures for the username or from the client's address within the window: 429 with
    Retry-After, before any password is checked (auth/throttle.py)."""
    body: LoginIn = ctx.body
    throttle = ctx.app[LOGIN_THROTTLE]
    attempt = throttle.begin(body.username, ctx.request.remote or "")
    if isinstance(attempt, float):
        log.info("login_throttled")
        raise ApiError(
            429,
            "too_many_attempts",
            "too many failed logins; try again later",
            {"Retry-After": retry_after(attempt)},
        )
    try:
        user = await authenticate(ctx.pool, body.username, body.password)
    except BaseException:
        throttle.cancel(attempt)  # no password was judged (database down, busy, cancelled)
        raise
    if user is None:
        log.info("login_failed")
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    throttle.succeeded(attempt)
    token, expires_at = await issue_token(ctx.pool, user["id"], ctx.settings.token_ttl_s)
    log.info("login", user_id=user["id"], organization_id=user["organization_id"])
    return {"token": token, "expires_at": expires_at, "user": user}


@routes.route("POST", "/auth/logout", summary="Log out (revoke this token)", roles=ANYONE)
async def logout(ctx: Ctx) -> None:
    await revoke_token(ctx.pool, ctx.request[TOKEN])


@routes.route("POST", "/auth/logout-all", summary="Sign out everywhere (revoke all my tokens)", roles=ANYONE)
async def logout_all(ctx: Ctx) -> None:
    """Every token of the asker, this one included, stops working at once."""
    await revoke_user_tokens(ctx.pool, ctx.principal.user_id)
