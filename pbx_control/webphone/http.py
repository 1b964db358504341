"""GET/POST /users/me/webphone: the signed-in user's own browser softphone account.

Members only (platform admins have no organization). There is no user id in the path, so
nobody can ask for another user's credentials; the response carries the HA1 digest secret, never
a password, and is never logged.
"""

from __future__ import annotations

from typing import Any

from pbx_control.api.context import Ctx, Reply
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.config import Settings
from pbx_control.tenancy.devices import SIP_REALM
from pbx_control.webphone import service
from pbx_control.webphone.schemas import Webphone

routes = RouteTable("webphone")


def account(settings: Settings, device: dict[str, Any]) -> dict[str, Any]:
    domain = settings.sip_domain
    host = f"[{domain}]" if ":" in domain else domain
    return {
        "device_id": device["id"],
        "sip_username": device["sip_username"],
        "realm": SIP_REALM,
        "ha1": device["sip_md5_cred"],
        "uri": f"sip:{device['sip_username']}@{host}",
        "ws_url": f"ws://{host}:{settings.sip_ws_port}/ws",
        "echo_test": service.ECHO_TEST,
    }


@routes.route(
    "GET",
    "/users/me/webphone",
    summary="My browser softphone's SIP account",
    roles=MEMBERS,
    response=Webphone,
)
async def get_webphone(ctx: Ctx) -> dict[str, Any]:
    """404 until the web device exists (POST makes it)."""
    device = await service.find(ctx.pool, ctx.org_id, ctx.principal.user_id)
    return account(ctx.settings, device)


@routes.route(
    "POST",
    "/users/me/webphone",
    summary="Make (or get) my browser softphone's SIP account",
    roles=MEMBERS,
    response=Webphone,
    status=201,
    also=(200,),
)
async def ensure_webphone(ctx: Ctx) -> Reply:
    """Idempotent: 201 when the web device was made now, 200 when it existed."""
    device, created = await service.ensure(ctx.pool, ctx.org_id, ctx.principal.user_id)
    return Reply(account(ctx.settings, device), 201 if created else 200)
