"""Login and logout."""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import TOKEN, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ANYONE, PUBLIC, RouteTable
from pbx_control.api.schemas import LoginIn, LoginOut
from pbx_control.auth.login import authenticate
from pbx_control.auth.tokens import issue_token, revoke_token
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
    """A wrong username and a wrong password give the same 401 and take about the same time."""
    body: LoginIn = ctx.body
    user = await authenticate(ctx.pool, body.username, body.password)
    if user is None:
        log.info("login_failed")
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    token, expires_at = await issue_token(ctx.pool, user["id"], ctx.settings.token_ttl_s)
    log.info("login", user_id=user["id"], organization_id=user["organization_id"])
    return {"token": token, "expires_at": expires_at, "user": user}


@routes.route("POST", "/auth/logout", summary="Log out (revoke this token)", roles=ANYONE)
async def logout(ctx: Ctx) -> None:
    await revoke_token(ctx.pool, ctx.request[TOKEN])
