"""Tenancy in the control service: organizations, users, devices, numbers and trunks over HTTP."""

from __future__ import annotations

from aiohttp import web

from pbx_control.feature import Feature, Runtime
from pbx_control.tenancy import http_devices, http_numbers, http_organizations, http_trunks, http_users
from pbx_control.tenancy.sip import SipClientSettings


def _app(app: web.Application, rt: Runtime) -> None:
    app[http_devices.SIP] = SipClientSettings.from_settings(rt.settings)
    app[http_organizations.ORGANIZATIONS_CHANGED] = rt.dialplan.organizations_changed


FEATURE = Feature(
    name="tenancy",
    routes=(
        http_users.routes,
        http_devices.routes,
        http_numbers.routes,
        http_organizations.routes,
        http_trunks.routes,
    ),
    app=_app,
)
