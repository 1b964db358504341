"""My own phones and how to set them up (the app's Settings: desk phone or mobile softphone).

There is no user id in the path: only the signed-in user's own devices are listed, and another
user's device id is a 404. The SIP password is not kept (only its digest, devices.py), so it
cannot be shown again: `POST /users/me/devices/{id}/password` sets a new one and shows it once,
in the answer (and its QR code). The browser's own web device is the app's (GET
/users/me/webphone) and is not listed here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pbx_control.api.context import Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.kernel.errors import Conflict, NotFound
from pbx_control.tenancy import devices
from pbx_control.tenancy.http_devices import SESSIONS, SIP
from pbx_control.tenancy.schemas import PhoneSetup
from pbx_control.tenancy.sip import SipClientSettings

routes = RouteTable("devices")
WEB = "web"


def setup(sip: SipClientSettings, device: dict[str, Any], password: str | None = None) -> dict[str, Any]:
    transport = str(device.get("transport") or "udp")
    account = sip.account(device["sip_username"], password or "", transport)
    registrar = str(account["tls_registrar"] if transport == "tls" else account["registrar"])
    host = registrar.split(":", 1)[1]  # host:port, IPv6 in brackets
    user = quote(device["sip_username"], safe="")
    secret = f":{quote(password, safe='')}" if password else ""
    return {
        **account,
        "device": device,
        "password": password,
        "setup_uri": f"sip:{user}{secret}@{host};transport={account['transport']}",
    }


async def _mine(ctx: Ctx, device_id: int) -> dict[str, Any]:
    device = await devices.get_device(ctx.pool, ctx.org_id, device_id)
    if device["user_id"] != ctx.principal.user_id:
        raise NotFound("device not found")  # a colleague's device: as if it did not exist
    return device


@routes.route(
    "GET",
    "/users/me/devices",
    summary="My phones and how to set them up",
    roles=MEMBERS,
    response=list[PhoneSetup],
)
async def list_my_devices(ctx: Ctx) -> list[dict[str, Any]]:
    """Username, registrar (host, port, transport; TLS port) and the QR code's text, without the
    password (it is not kept; POST .../password sets a new one)."""
    mine = await devices.list_devices(ctx.pool, ctx.org_id, user_id=ctx.principal.user_id)
    return [setup(ctx.app[SIP], d) for d in mine if d["kind"] != WEB]


@routes.route(
    "POST",
    "/users/me/devices/{device_id}/password",
    summary="A new SIP password for one of my phones",
    roles=MEMBERS,
    response=PhoneSetup,
)
async def new_my_device_password(ctx: Ctx) -> dict[str, Any]:
    """Generated, shown in this answer only (also in setup_uri). The phone's registrations are
    dropped: it must register again with the new password (calls in progress go on). The web
    device is the app's own: 409."""
    device = await _mine(ctx, ctx.params["device_id"])
    if device["kind"] == WEB:
        raise Conflict("the browser's softphone gets its account from the app (GET /users/me/webphone)")
    device, password = await devices.reset_password(ctx.pool, ctx.org_id, device["id"])
    await ctx.app[SESSIONS].drop_registrations([device["sip_username"]])
    return setup(ctx.app[SIP], device, password)
