"""Live call operations for apps: hold, resume, swap, keypad, click-to-call, retrieve a parked call.

Same rules as http.py: a call is the `id` of GET /calls; a user acts on their own devices' calls,
operators and admins on any in their organization; another's call is a 404. Click-to-call and
retrieve ring the asker's own devices only.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.api.asterisk import asterisk_errors
from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.callcontrol.dial import DestinationError, parse_destination, ring_then_dial
from pbx_control.callcontrol.hold import DIGIT_MS, Hold
from pbx_control.callcontrol.http import CALL_DEADLINE_S, HOLD, _asker, _channel, _control, _me
from pbx_control.callcontrol.http_transfers import TRANSFERS
from pbx_control.callcontrol.move import MoveInProgress, Moves, movable
from pbx_control.callcontrol.schemas import (
    CallRef,
    DialIn,
    DialOut,
    DtmfIn,
    MoveIn,
    MoveOut,
    RetrieveIn,
    SwapIn,
)
from pbx_control.callcontrol.transfer import Transfers
from pbx_control.callcontrol.views import peer_of
from pbx_control.policy.checks import check_destination

routes = RouteTable("calls")
MOVES: web.AppKey[Moves | None] = web.AppKey("call_moves")

_MY_DEVICES = """
SELECT d.id, d.sip_username, u.name
  FROM devices d JOIN users u ON u.id = d.user_id
 WHERE d.user_id = $1 AND d.organization_id = $2
 ORDER BY d.id
"""


def _hold(ctx: Ctx) -> Hold:
    hold = ctx.app.get(HOLD)
    if hold is None:
        raise ApiError(503, "call_control_unavailable", "this service does not run the AMI bridge")
    return hold


async def _my_endpoints(ctx: Ctx, device: int | None) -> list[str]:
    """The asker's devices to ring: the one chosen, or all of them."""
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(_MY_DEVICES, ctx.principal.user_id, ctx.org_id)
    if device is not None:
        rows = [r for r in rows if r["id"] == device]
        if not rows:
            raise ApiError(404, "device_not_found", "no such device of yours")
    if not rows:
        raise ApiError(409, "no_device", "you have no device to ring")
    return [r["sip_username"] for r in rows]


@routes.route("POST", "/calls/hold", summary="Put a call on hold", roles=MEMBERS, body=CallRef)
async def hold_call(ctx: Ctx) -> None:
    """The other party hears music on hold; your device stays on the call, silent, until resume."""
    hold = _hold(ctx)
    _, calls, channel, _, _ = await _channel(ctx, ctx.body.call)
    await _hold_one(hold, calls, channel)


async def _hold_one(hold: Hold, calls: CallModel, channel: Channel) -> None:
    async with hold.lock(channel):
        if hold.is_held(channel):
            raise ApiError(409, "already_held", "the call is already on hold")
        peer = peer_of(calls, channel)
        if peer is None:
            raise ApiError(409, "not_connected", "only an answered call can be held")
        async with asterisk_errors():
            await hold.hold(channel, peer)


async def _resume(ctx: Ctx, call: str) -> None:
    hold = _hold(ctx)
    _, _, channel, _, _ = await _channel(ctx, call)
    async with hold.lock(channel):
        if not hold.held_by_app(channel):
            if channel.on_hold:
                raise ApiError(409, "held_on_phone", "held on the phone: take it back there")
            raise ApiError(409, "not_held", "the call is not on hold")
        async with asterisk_errors():
            peer = await hold.held_peer(channel)
            if peer is None:
                raise ApiError(409, "call_changed", "the held party is gone")
            await hold.resume(channel, peer)


@routes.route("POST", "/calls/resume", summary="Take a held call back", roles=MEMBERS, body=CallRef)
async def resume_call(ctx: Ctx) -> None:
    await _resume(ctx, ctx.body.call)


@routes.route(
    "POST", "/calls/swap", summary="Hold the active call and take back a held one", roles=MEMBERS, body=SwapIn
)
async def swap_calls(ctx: Ctx) -> None:
    """`call` is the held call to take back; `active` the one to hold (by default your one answered
    call that is not on hold; with none, this is a resume)."""
    hold = _hold(ctx)
    _, calls, held, _, _ = await _channel(ctx, ctx.body.call)
    if not hold.held_by_app(held):
        raise ApiError(409, "not_held", "the call to take back is not on hold")
    if ctx.body.active is not None:
        _, _, active, _, _ = await _channel(ctx, ctx.body.active)
        actives = [active]
    else:
        _, _, endpoints = await _asker(ctx)
        mine = [c for e in sorted(endpoints) for c in calls.by_endpoint(e)]
        actives = [
            c for c in mine if c.uniqueid != held.uniqueid and peer_of(calls, c) and not hold.is_held(c)
        ]
        if len(actives) > 1:
            raise ApiError(409, "ambiguous", "you have several active calls: say which one in `active`")
    for active in actives:
        if peer_of(calls, active) is None or hold.is_held(active):
            raise ApiError(409, "not_connected", "the call to hold is not an answered, active call")
        await _hold_one(hold, calls, active)
    await _resume(ctx, held.uniqueid)


@routes.route("POST", "/calls/dtmf", summary="Press keys on a call", roles=MEMBERS, body=DtmfIn)
async def send_dtmf(ctx: Ctx) -> None:
    """The far end receives the digits as key presses (RFC 4733), as from the phone's keypad."""
    hold = _hold(ctx)
    _, calls, channel, _, _ = await _channel(ctx, ctx.body.call)
    peer = peer_of(calls, channel)
    if peer is None:
        raise ApiError(409, "not_connected", "keys can be sent on an answered call that is not on hold")
    # Asterisk answers each PlayDTMF after playing the key (DIGIT_MS): 32 keys take 6.4 s.
    async with asterisk_errors(CALL_DEADLINE_S + len(ctx.body.digits) * DIGIT_MS / 1000):
        await hold.send_digits(peer, ctx.body.digits)


@routes.route(
    "POST", "/calls", summary="Click-to-call", roles=MEMBERS, body=DialIn, response=DialOut, status=202
)
async def click_to_call(ctx: Ctx) -> dict[str, Any]:
    """Your device rings (the chosen one, or all); when you answer it calls `to` exactly as if you
    had dialled it there. `to` may be `tel:+46-8-123 45 67`, `callto:+4681234567`, `08-123 45 67`
    or an extension."""
    try:
        destination = parse_destination(ctx.body.to)
    except DestinationError as exc:
        raise ApiError(400, "invalid_destination", f"cannot call {ctx.body.to!r}: {exc}") from None
    # The asker's call policy, as when the number is dialled on the phone (checked there again).
    await check_destination(ctx.pool, ctx.org_id, ctx.principal.user_id, "dial", destination.dial, "to")
    _control(ctx)
    slug = (await _me(ctx)).slug
    endpoints = await _my_endpoints(ctx, ctx.body.device)
    async with asterisk_errors(None):  # bounded by the Originate's ring time
        await ring_then_dial(_hold(ctx).ami, slug, endpoints, destination.dial, display=destination.dial)
    return {"to": destination.dial, "devices": endpoints}


@routes.route(
    "POST",
    "/calls/parked/retrieve",
    summary="Take a parked call on one of my devices",
    roles=MEMBERS,
    body=RetrieveIn,
    response=DialOut,
    status=202,
)
async def retrieve_parked(ctx: Ctx) -> dict[str, Any]:
    """Your device rings; answered, it picks up the call parked in `slot` (as dialling *8<slot>)."""
    control, _ = _control(ctx)
    slug = (await _me(ctx)).slug
    async with asterisk_errors():
        parked = {p.slot: p for p in await control.parked(slug)}
    found = parked.get(ctx.body.slot)
    if found is None:
        raise ApiError(404, "not_parked", f"nothing is parked in slot {ctx.body.slot}")
    endpoints = await _my_endpoints(ctx, ctx.body.device)
    display = found.caller_name or found.caller_number or "Parked call"
    async with asterisk_errors(None):  # bounded by the Originate's ring time
        await ring_then_dial(_hold(ctx).ami, slug, endpoints, f"*8{ctx.body.slot}", display=display)
    return {"to": f"*8{ctx.body.slot}", "devices": endpoints}


@routes.route(
    "POST",
    "/calls/move",
    summary="Move my call to another of my devices",
    roles=MEMBERS,
    body=MoveIn,
    response=MoveOut,
    status=202,
)
async def move_call(ctx: Ctx) -> dict[str, Any]:
    """`device` rings; answered, it takes the call and the device that had it is free. The other
    party stays connected throughout. Only your own calls, onto your own devices (also for
    operators and admins); as dialling *88 on the device that should take it."""
    moves = ctx.app.get(MOVES)
    if moves is None:
        raise ApiError(503, "call_control_unavailable", "this service does not run the AMI bridge")
    _, calls, channel, slug, _ = await _channel(ctx, ctx.body.call)
    async with ctx.pool.acquire() as conn:
        mine = await conn.fetch(_MY_DEVICES, ctx.principal.user_id, ctx.org_id)
    endpoints = {r["id"]: r["sip_username"] for r in mine}
    if channel.endpoint not in endpoints.values():  # a colleague's call, seen as an operator
        raise ApiError(404, "call_not_found", "no such call on your devices")
    target = endpoints.get(ctx.body.device)
    if target is None:
        raise ApiError(404, "device_not_found", "no such device of yours")
    if target == channel.endpoint:
        raise ApiError(409, "same_device", "the call is on that device already")
    hold = ctx.app.get(HOLD)
    peer = movable(calls, channel)
    if peer is None or (hold is not None and hold.is_held(channel)):
        raise ApiError(409, "not_connected", "only an answered call that is not on hold can be moved")
    transfers: Transfers | None = ctx.app.get(TRANSFERS)
    if transfers is not None and any(transfers.active_on(c.uniqueid) for c in (channel, peer)):
        raise ApiError(409, "transfer_in_progress", "the call is being transferred")
    async with asterisk_errors():
        try:
            moves.move(channel, peer, target, slug)
        except MoveInProgress:
            raise ApiError(409, "move_in_progress", "a device already rings to take this call") from None
    return {"call": channel.uniqueid, "device": target}
