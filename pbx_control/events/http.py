"""GET /events: a WebSocket that pushes the asker's organization's live events as JSON.

Authentication is the usual bearer token in an ``Authorization: Bearer`` header, or, because browsers
cannot set headers on a WebSocket, ``?ticket=<ticket>`` on the upgrade request: a single-use ticket
good for 30 s, from ``POST /events/tickets`` (auth/tickets.py, api.middlewares). The bearer token
itself is never accepted in the URL (401 ``token_in_url``). The token (the ticket's, for a ticket) is
checked again every ``RECHECK_TOKEN_S`` (sockets.py): after a logout or password change the socket is
closed with 4001. A client that does not keep up (more than the hub's ``max_buffer`` unsent) is
closed with 4008; it should reconnect and start again from the ``hello`` snapshot.

Every event carries the organization's ``seq`` and the hub's ``epoch``; ``hello`` carries the
``seq`` its snapshot is as of. ``?since=<seq>&epoch=<epoch>`` resumes: ``events.resumed`` and the
missed events (the asker's own, by the rule of GET /calls) come first, then live ones; when the
window no longer holds them (or the epoch is another) ``events.lost`` and a fresh ``hello`` instead.

Events are written by the EventHub straight to the connection as prebuilt frames, so the socket is
made without per-message compression (which would need a frame per client).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from pbx_control.ami.calls import CallModel
from pbx_control.ami.events import EventPublisher
from pbx_control.api.context import CALLS, EVENTS, PRINCIPAL, TICKETS, TOKEN, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.callcontrol.visibility import ViewerLookups, visible_channels
from pbx_control.events.frames import text_frame
from pbx_control.events.hub import EventHub, Scope, encode, hub_for
from pbx_control.events.schemas import EventMessage, TicketOut
from pbx_control.events.sockets import CLOSE_TOO_SLOW, OpenSockets
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api.events")

# The sockets' viewer look-ups, shared by concurrent connects, and the open sockets (feature.py).
VIEWERS: web.AppKey[ViewerLookups] = web.AppKey("event_viewers")
SOCKETS: web.AppKey[OpenSockets] = web.AppKey("event_sockets")
routes = RouteTable("events")

HEARTBEAT_S = 30.0
CLOSE_TIMEOUT_S = 1.0


@routes.route(
    "POST",
    "/events/tickets",
    summary="A single-use ticket to open the live events WebSocket from a browser",
    roles=MEMBERS,
    response=TicketOut,
    status=201,
)
async def issue_ticket(ctx: Ctx) -> dict[str, Any]:
    """Open `GET /events?ticket=<ticket>` within `expires_in_s` seconds: the ticket works once, for
    you, and only while the bearer token you asked with is valid. Browsers use it because they
    cannot set an Authorization header on a WebSocket; a bearer token in the URL is refused."""
    principal = ctx.request[PRINCIPAL]
    store = ctx.app[TICKETS]
    ticket = store.issue(principal.user_id, principal.organization_id, ctx.request[TOKEN])
    log.info("events.ticket_issued")
    return {"ticket": ticket, "expires_in_s": store.ttl_s}


@routes.route(
    "GET",
    "/events",
    summary="Live events of my organization (WebSocket)",
    roles=MEMBERS,
    response=EventMessage,
    status=101,
)
async def event_stream(ctx: Ctx) -> web.StreamResponse:
    """Upgrade to a WebSocket (token in the Authorization header, or `?ticket=` from
    `POST /events/tickets`; a bearer token as `?token=` is refused with 401). Messages are JSON
    objects with a `type`; only events of the asker's organization are sent, and to a plain user
    only those of their own calls (and the organization's presence and groups). `?since=<seq>` and
    `&epoch=` resume after a reconnect. Close codes: 4001
    token no longer valid, 4008 client too slow (reconnect). 503 when this process runs no AMI."""
    publisher = ctx.app.get(EVENTS)
    if not isinstance(publisher, EventPublisher):
        raise ApiError(503, "unavailable", "this process runs no AMI bridge: no live events here")
    org_id = ctx.org_id
    since = _since(ctx)
    epoch = ctx.request.query.get("epoch") or None
    ws = web.WebSocketResponse(heartbeat=HEARTBEAT_S, max_msg_size=4096, compress=False)
    if not ws.can_prepare(ctx.request).ok:
        raise ApiError(400, "websocket_required", "this endpoint speaks WebSocket only (Upgrade: websocket)")
    principal = ctx.principal
    seen = await ctx.app[VIEWERS].viewer(principal.user_id, org_id, principal.role)
    if seen is None:
        raise ApiError(404, "not_found", "user not found")
    slug, scope = seen.slug, seen.scope
    await ws.prepare(ctx.request)
    transport = ctx.request.transport
    if transport is None:  # the client went away during the handshake
        return ws
    sockets = ctx.app[SOCKETS]
    socket = sockets.open(ctx.request[TOKEN])
    calls = ctx.app.get(CALLS)
    hub = hub_for(publisher, calls if isinstance(calls, CallModel) else None)
    feed = None
    code, reason = 1011, "server error"  # unless the client, a stop or the server ends it
    try:
        # Join and write the snapshot (or the replay) with no await between them: no event is
        # missed or comes first.
        feed = hub.join(
            slug,
            org_id,
            transport,
            on_overflow=lambda: socket.stop(CLOSE_TOO_SLOW, "too slow"),
            scope=scope,
            user_id=principal.user_id,
        )
        transport.write(_start(hub, calls, slug, scope, since, epoch, principal.user_id))
        log.info("events.client_joined", organization=slug, clients=hub.client_count)
        code, reason = await socket.serve(ws)
    except (ConnectionError, asyncio.CancelledError):
        code, reason = 1001, "going away"
        raise
    finally:
        sockets.close(socket)
        if feed is not None:
            hub.leave(feed)
        await _close(ctx.request, ws, code, reason)
        log.info("events.client_left", organization=slug, code=code, reason=reason)
    return ws


def _since(ctx: Ctx) -> int | None:
    raw = ctx.request.query.get("since")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "invalid_since", "since is the seq of the last event received") from None
    if value < 0:
        raise ApiError(400, "invalid_since", "since is the seq of the last event received")
    return value


def _start(
    hub: EventHub,
    calls: CallModel | None,
    slug: str,
    scope: Scope,
    since: int | None,
    epoch: str | None,
    user_id: int | None = None,
) -> bytes:
    """What a client gets first: the missed events, or (events.lost and) a hello snapshot."""
    head = {"organization": slug, "epoch": hub.epoch, "seq": hub.position(slug)}
    if since is not None:
        missed = hub.replay(slug, since, scope, epoch, user_id)
        if missed is not None:
            resumed = text_frame(encode({"type": "events.resumed", **head, "since": since}))
            return b"".join([resumed, *missed])
        lost = text_frame(encode({"type": "events.lost", **head, "since": since}))
        return lost + text_frame(encode(_hello(calls, slug, scope, head)))
    return text_frame(encode(_hello(calls, slug, scope, head)))


def _hello(calls: CallModel | None, slug: str, scope: Scope, head: dict[str, Any]) -> dict[str, Any]:
    channels = visible_channels(calls, slug, scope) if isinstance(calls, CallModel) else []
    return {"type": "hello", **head, "channels": [c.to_dict() for c in channels]}


async def _close(request: web.Request, ws: web.WebSocketResponse, code: int, reason: str) -> None:
    if ws.closed:
        return
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT_S):
            await ws.close(code=code, message=reason.encode())
    except (TimeoutError, ConnectionError):
        # A client that stopped reading cannot take the close frame either: drop the connection.
        if request.transport is not None:
            with contextlib.suppress(Exception):
                request.transport.abort()
