"""Announced transfer ("Koppla med avisering") over HTTP: start, look, complete, cancel.

Who may act: as for the other call operations (callcontrol/http.py): a user on their own devices'
calls, operators and admins on any in their organization; anything else is a 404.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.asterisk import asterisk_errors
from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.callcontrol.http import _channel, _me
from pbx_control.callcontrol.schemas import AnnouncedTransferIn, TransferOut
from pbx_control.callcontrol.transfer import Transfer, TransferConflict, Transfers
from pbx_control.callcontrol.views import peer_of
from pbx_control.policy.checks import check_destination

routes = RouteTable("calls")
TRANSFERS: web.AppKey[Transfers | None] = web.AppKey("transfers")


def _transfers(ctx: Ctx) -> Transfers:
    transfers = ctx.app.get(TRANSFERS)
    if transfers is None:
        raise ApiError(503, "call_control_unavailable", "this service does not run the AMI bridge")
    return transfers


async def _mine(ctx: Ctx) -> tuple[Transfers, Transfer]:
    transfers = _transfers(ctx)
    transfer = transfers.get(ctx.params["transfer_id"])
    me = await _me(ctx, transfer.initiator_endpoint if transfer is not None else None)
    if transfer is None or transfer.organization != me.slug or not me.sees:
        raise ApiError(404, "transfer_not_found", "no such transfer on your calls")
    return transfers, transfer


@routes.route(
    "POST",
    "/calls/transfers",
    summary="Start an announced transfer",
    roles=MEMBERS,
    body=AnnouncedTransferIn,
    response=TransferOut,
    status=201,
)
async def start_transfer(ctx: Ctx) -> dict[str, Any]:
    """The other party hears music on hold; your device calls `to` (routed as if you dialled it).
    Then complete or cancel; events transfer.* tell the app what happens."""
    # The asker's call policy for transfers (the consultation is then routed as if dialled).
    await check_destination(ctx.pool, ctx.org_id, ctx.principal.user_id, "transfer", ctx.body.to, "to")
    transfers = _transfers(ctx)
    _, calls, channel, slug, _ = await _channel(ctx, ctx.body.call)
    if transfers.active_on(channel.uniqueid) is not None:
        raise ApiError(409, "transfer_in_progress", "a transfer of this call is already under way")
    peer = peer_of(calls, channel)
    if peer is None:
        raise ApiError(409, "not_connected", "only an answered call can be transferred")
    async with asterisk_errors():
        try:
            transfer = await transfers.start(channel, peer, slug, ctx.body.to)
        except TransferConflict as exc:
            raise ApiError(409, "transfer_in_progress", str(exc)) from None
    return transfer.to_dict()


@routes.route(
    "GET",
    "/calls/transfers/{transfer_id}",
    summary="An announced transfer",
    roles=MEMBERS,
    response=TransferOut,
)
async def get_transfer(ctx: Ctx) -> dict[str, Any]:
    _, transfer = await _mine(ctx)
    return transfer.to_dict()


@routes.route(
    "POST",
    "/calls/transfers/{transfer_id}/complete",
    summary="Complete an announced transfer",
    roles=MEMBERS,
    response=TransferOut,
)
async def complete_transfer(ctx: Ctx) -> dict[str, Any]:
    """The other party and the recipient are connected and your device is free; while the
    recipient still rings, the other party is sent to ring there (a blind transfer)."""
    transfers, transfer = await _mine(ctx)
    async with asterisk_errors():
        try:
            return (await transfers.complete(transfer.id)).to_dict()
        except TransferConflict as exc:
            raise ApiError(409, "transfer_state", str(exc)) from None


@routes.route(
    "POST",
    "/calls/transfers/{transfer_id}/cancel",
    summary="Cancel an announced transfer",
    roles=MEMBERS,
    response=TransferOut,
)
async def cancel_transfer(ctx: Ctx) -> dict[str, Any]:
    """The recipient's leg ends and you talk to the other party again."""
    transfers, transfer = await _mine(ctx)
    async with asterisk_errors():
        try:
            return (await transfers.cancel(transfer.id)).to_dict()
        except TransferConflict as exc:
            raise ApiError(409, "transfer_state", str(exc)) from None
