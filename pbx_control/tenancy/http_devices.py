"""Devices (SIP accounts) of the asker's organization; admins only. The SIP password appears in
the response to creation and to reset-password, and nowhere else."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from pbx_control.api.context import Ctx
from pbx_control.api.registry import ADMIN, RouteTable
from pbx_control.tenancy import devices, users
from pbx_control.tenancy.schemas import DeviceCreate, DeviceCreated, DeviceOut, DeviceUpdate, PasswordReset
from pbx_control.tenancy.sessions import DeviceSessions
from pbx_control.tenancy.sip import SipClientSettings

routes = RouteTable("devices")
SIP = web.AppKey("sip", SipClientSettings)
# What devices leave in Asterisk (registrations, calls), removed through AMI.
SESSIONS = web.AppKey("device_sessions", DeviceSessions)


def _created(ctx: Ctx, device: dict[str, Any], password: str) -> dict[str, Any]:
    return {
        "device": device,
        "sip": ctx.app[SIP].account(device["sip_username"], password, device["transport"]),
    }


@routes.route(
    "GET", "/users/{user_id}/devices", summary="A user's devices", roles=ADMIN, response=list[DeviceOut]
)
async def list_user_devices(ctx: Ctx) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        user = await users.get_user(conn, ctx.org_id, ctx.params["user_id"])
        return await devices.list_devices(conn, ctx.org_id, user_id=user["id"])


@routes.route(
    "POST",
    "/users/{user_id}/devices",
    summary="Add a device (SIP account) to a user",
    roles=ADMIN,
    body=DeviceCreate,
    response=DeviceCreated,
    status=201,
)
async def create_device(ctx: Ctx) -> dict[str, Any]:
    """The sip_username is generated as <slug>_<extension>_<n> unless given; the password is
    generated unless given. The response holds what a softphone needs to register."""
    b: DeviceCreate = ctx.body
    device, password = await devices.create_device(
        ctx.pool,
        ctx.org_id,
        ctx.params["user_id"],
        b.kind,
        b.label,
        b.sip_username,
        b.password,
        b.transport,
        b.media_encryption,
    )
    # Before anyone knows the password: no registration left under a reused name may stay.
    await ctx.app[SESSIONS].drop_registrations([device["sip_username"]])
    return _created(ctx, device, password)


@routes.route(
    "PATCH",
    "/devices/{device_id}",
    summary="Change a device's label, transport or media encryption",
    roles=ADMIN,
    body=DeviceUpdate,
    response=DeviceOut,
)
async def update_device(ctx: Ctx) -> dict[str, Any]:
    """media_encryption sdes only with transport tls (400 otherwise: SDES keys in an SDP over UDP
    are readable on the path). Calls in progress keep what they negotiated; the next call uses
    the new setting (and a phone moved to tls must register again over TLS)."""
    b: DeviceUpdate = ctx.body
    return await devices.update_device(
        ctx.pool, ctx.org_id, ctx.params["device_id"], b.model_dump(exclude_none=True)
    )


@routes.route("DELETE", "/devices/{device_id}", summary="Delete a device", roles=ADMIN)
async def delete_device(ctx: Ctx) -> None:
    """Its registrations are dropped and its calls hung up: it rings nobody, and a new device
    given the same sip_username never reaches this one's phone."""
    name = await devices.delete_device(ctx.pool, ctx.org_id, ctx.params["device_id"])
    await ctx.app[SESSIONS].retire([name])


@routes.route(
    "POST",
    "/devices/{device_id}/reset-password",
    summary="Set a new SIP password",
    roles=ADMIN,
    body=PasswordReset,
    response=DeviceCreated,
)
async def reset_device_password(ctx: Ctx) -> dict[str, Any]:
    """Generated unless given; the body may be empty. The device's registrations are dropped: its
    phone must register again with the new password (calls in progress go on)."""
    b: PasswordReset = ctx.body
    device, password = await devices.reset_password(ctx.pool, ctx.org_id, ctx.params["device_id"], b.password)
    await ctx.app[SESSIONS].drop_registrations([device["sip_username"]])
    return _created(ctx, device, password)
