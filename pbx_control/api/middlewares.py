"""Request id + logging (outermost), then error translation (api.errors), then authentication.

The request log line carries method, path, status, duration, request id, user id and organization;
never bodies, query strings, tokens or the Authorization header.
"""

from __future__ import annotations

import re
import time
import uuid

import structlog
from aiohttp import web

from pbx_control.api.context import PRINCIPAL, REQUEST_ID, TICKETS, TIMING, TOKEN, TOKEN_LOOKUPS
from pbx_control.api.errors import ApiError, Handler
from pbx_control.api.registry import route_of
from pbx_control.auth.tokens import Principal
from pbx_control.kernel.timing import RequestTiming, begin_request
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
REQUEST_ID_HEADER = "X-Request-Id"


@web.middleware
async def request_log_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    request_id = incoming if _REQUEST_ID_RE.fullmatch(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    request[TIMING] = begin_request()  # the Server-Timing header (server_timing below)
    started = time.perf_counter()
    status = 499  # client went away before we answered
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            principal = request.get(PRINCIPAL)
            log.info(
                "http_request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                user_id=principal.user_id if principal else None,
                organization_id=principal.organization_id if principal else None,
            )


SERVER_TIMING_HEADER = "Server-Timing"


async def server_timing(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """on_response_prepare: every response (errors, files, a WebSocket's upgrade too) says how
    long the service worked on it and how long it waited for AMI responses within it:
    `Server-Timing: app;dur=<ms>, ami;dur=<ms>` (kernel/timing.py)."""
    timing = request.get(TIMING)
    if not isinstance(timing, RequestTiming):
        timing = RequestTiming()  # answered before the middleware ran: no AMI wait in it
    response.headers[SERVER_TIMING_HEADER] = timing.header()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer token on every route that declares roles; 401 without a valid one, 403 for a role
    the route does not allow. Unknown paths fall through to the router's 404/405."""
    route = route_of(request)
    if route is None or route.roles is None:
        return await handler(request)
    challenge = {"WWW-Authenticate": "Bearer"}
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if not scheme and request.headers.get("Upgrade", "").lower() == "websocket":
        # Browsers cannot set headers on a WebSocket: they bring a single-use ticket instead
        # (POST /events/tickets). The long-lived bearer token is never accepted in a URL.
        principal, token = await _redeem_ticket(request, challenge)
    else:
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "unauthorized", "a bearer token is required (Authorization: Bearer <token>)", challenge
            )
        found = await request.app[TOKEN_LOOKUPS].get(token)
        if found is None:
            raise ApiError(401, "unauthorized", "the token is invalid or has expired", challenge)
        principal = found
    request[PRINCIPAL] = principal
    request[TOKEN] = token
    if principal.role not in route.roles:
        raise ApiError(403, "forbidden", f"the {principal.role} role may not use this endpoint")
    with structlog.contextvars.bound_contextvars(
        user_id=principal.user_id, organization_id=principal.organization_id
    ):
        return await handler(request)


async def _redeem_ticket(request: web.Request, challenge: dict[str, str]) -> tuple[Principal, str]:
    """The principal and bearer token behind `?ticket=` on a WebSocket upgrade, or 401."""
    if "token" in request.query:
        raise ApiError(
            401,
            "token_in_url",
            "bearer tokens are not accepted in the URL: get a ticket with POST /api/v1/events/tickets"
            " (Authorization: Bearer <token>) and connect with ?ticket=<ticket>",
            challenge,
        )
    ticket = request.query.get("ticket", "").strip()
    if not ticket:
        raise ApiError(
            401,
            "unauthorized",
            "a bearer token (Authorization header) or a ticket (?ticket=, from POST /api/v1/events/tickets)"
            " is required",
            challenge,
        )
    grant = request.app[TICKETS].redeem(ticket)
    principal = None if grant is None else await request.app[TOKEN_LOOKUPS].get(grant.token)
    if (
        grant is None
        or principal is None
        or principal.user_id != grant.user_id
        or principal.organization_id != grant.organization_id
    ):
        raise ApiError(
            401, "unauthorized", "the ticket is invalid, used or expired: get a new one", challenge
        )
    return principal, grant.token
