"""Call control for apps: my calls, hang up, blind transfer, park, and the parked calls.

A user acts on the calls of their own devices; operators and admins on any device's call in their
organization. A call is named by the uniqueid of the device's channel (the `id` of GET /calls).
Everything goes through the live call model and the one AMI login; without AMI: 503.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.api.asterisk import AMI_DEADLINE_S, asterisk_errors
from pbx_control.api.context import CALLS, Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.callcontrol.actions import PARKED_WAIT_S, CallControl, is_uniqueid
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.schemas import (
    CallOut,
    CallRef,
    ParkedOut,
    ParkIn,
    ParkOut,
    TransferIn,
)
from pbx_control.callcontrol.views import CallView, calls_of, held_in_model, peer_of
from pbx_control.callcontrol.visibility import Asker, asker, viewer
from pbx_control.reachability.checks import forward_number

routes = RouteTable("calls")
CALL_CONTROL: web.AppKey[CallControl | None] = web.AppKey("call_control")
HOLD: web.AppKey[Hold | None] = web.AppKey("call_hold")


def _control(ctx: Ctx) -> tuple[CallControl, CallModel]:
    control, calls = ctx.app.get(CALL_CONTROL), ctx.app.get(CALLS)
    if control is None or calls is None:
        raise ApiError(503, "call_control_unavailable", "this service does not run the AMI bridge")
    if not calls.current:  # Asterisk or AMI away: what the model holds may be ghosts
        raise ApiError(503, "ami_unavailable", "Asterisk is not connected now; try again")
    return control, calls


async def _asker(ctx: Ctx) -> tuple[str, str | None, set[str]]:
    """The asker's organization slug, own extension, and the endpoints whose calls they may act on."""
    principal = ctx.principal
    seen = await viewer(ctx.pool, principal.user_id, ctx.org_id, principal.role)
    if seen is None:
        raise ApiError(404, "not_found", "user not found")
    return seen.slug, seen.extension, set(seen.endpoints)


def _out(v: CallView) -> dict[str, Any]:
    return {**v.__dict__, "since": v.since.isoformat() if v.since else None}


async def _me(ctx: Ctx, endpoint: str | None = None) -> Asker:
    """The asker's organization slug and extension, and whether `endpoint` is one whose calls they
    may act on (one query; `_asker` reads every endpoint, for the lists)."""
    principal = ctx.principal
    found = await asker(ctx.pool, principal.user_id, ctx.org_id, principal.role, endpoint)
    if found is None:
        raise ApiError(404, "not_found", "user not found")
    return found


async def _channel(ctx: Ctx, call_id: str) -> tuple[CallControl, CallModel, Channel, str, str | None]:
    control, calls = _control(ctx)
    found = calls.get(call_id) if is_uniqueid(call_id) else None
    endpoint = found.endpoint if found is not None else None
    me = await _me(ctx, endpoint)
    # The model is read again after the query: the channel may have gone (or moved) meanwhile.
    channel = calls.get(call_id) if endpoint is not None else None
    # Another organization's call, or a colleague's for a plain user: the same 404 as none at all.
    if channel is None or channel.endpoint != endpoint or not me.sees:
        raise ApiError(404, "call_not_found", "no such call on your devices")
    return control, calls, channel, me.slug, me.extension


CALL_DEADLINE_S = AMI_DEADLINE_S
PARK_DEADLINE_S = PARKED_WAIT_S + 0.5  # a park also waits for Asterisk's ParkedCall event


@routes.route("GET", "/calls", summary="My calls now", roles=MEMBERS, response=list[CallOut])
async def list_calls(ctx: Ctx) -> list[dict[str, Any]]:
    """Operators and admins see every device's call in their organization."""
    _, calls = _control(ctx)
    _, _, endpoints = await _asker(ctx)
    hold = ctx.app.get(HOLD)
    held = hold.is_held if hold is not None else held_in_model
    return [_out(v) for v in calls_of(calls, sorted(endpoints), held)]


@routes.route("POST", "/calls/hangup", summary="Hang up a call", roles=MEMBERS, body=CallRef)
async def hangup_call(ctx: Ctx) -> None:
    control, _, channel, _, _ = await _channel(ctx, ctx.body.call)
    async with asterisk_errors():
        await control.hangup(channel)


@routes.route(
    "POST",
    "/calls/transfer",
    summary="Blind transfer to an extension, a group or an outside number",
    roles=MEMBERS,
    body=TransferIn,
)
async def transfer_call(ctx: Ctx) -> None:
    """The other party goes to `to` as if it had dialled it, with everything that applies there
    (activity, forwards, groups); the device that transferred is free at once. `to` is an
    extension (a colleague or a group) or an outside number, checked as a forward target is."""
    # The same check as a forward target (reachability): a user or group of the organization, not
    # oneself, or an outside number (stored as E.164) the asker's call policy lets them transfer
    # to; 400 invalid_input or destination_not_allowed otherwise.
    target = await forward_number(ctx.pool, ctx.org_id, ctx.principal.user_id, ctx.body.to, "to", "transfer")
    control, calls, channel, slug, _ = await _channel(ctx, ctx.body.call)
    if peer_of(calls, channel) is None:
        raise ApiError(409, "not_connected", "only an answered call can be transferred")
    async with asterisk_errors():
        await control.blind_transfer(channel, slug, target)


@routes.route(
    "POST", "/calls/park", summary="Park the other party", roles=MEMBERS, body=ParkIn, response=ParkOut
)
async def park_call(ctx: Ctx) -> dict[str, Any]:
    """The other party waits in the organization's parking lot; anyone in the organization picks it
    up by dialling *8<slot>. Unpicked, it rings the extension of the one who parked it."""
    control, calls, channel, slug, extension = await _channel(ctx, ctx.body.call)
    peer = peer_of(calls, channel)
    if peer is None:
        raise ApiError(409, "not_connected", "only an answered call can be parked")
    if extension is None:
        raise ApiError(409, "no_extension", "you have no extension for the call to come back to")
    async with asterisk_errors(PARK_DEADLINE_S):
        try:
            event = await control.park(peer, slug, extension, ctx.body.timeout_s)
        except TimeoutError:  # no ParkedCall event in time (an AMI timeout included)
            raise ApiError(503, "park_failed", "the call was not parked in time") from None
    return {"slot": event.get("ParkingSpace", ""), "timeout_s": int(event.get("ParkingTimeout", "0") or 0)}


@routes.route(
    "GET", "/calls/parked", summary="Calls parked in my organization", roles=MEMBERS, response=list[ParkedOut]
)
async def list_parked(ctx: Ctx) -> list[dict[str, Any]]:
    control, _ = _control(ctx)
    slug = (await _me(ctx)).slug
    async with asterisk_errors():
        parked = await control.parked(slug)
    return [p.__dict__ for p in parked]
