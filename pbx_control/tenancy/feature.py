"""Tenancy in the control service: organizations, users, devices, numbers and trunks over HTTP."""

from __future__ import annotations

from aiohttp import web

from pbx_control.ami import AmiClient
from pbx_control.auth.throttle import LoginThrottle
from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.tenancy import (
    http_devices,
    http_my_devices,
    http_numbers,
    http_organizations,
    http_password_links,
    http_trunks,
    http_users,
)
from pbx_control.tenancy.password_links import Links
from pbx_control.tenancy.sessions import DeviceSessions
from pbx_control.tenancy.sip import SipClientSettings
from pbx_control.tenancy.sip_cache import SipCacheInvalidator


def _app(app: web.Application, rt: Runtime) -> None:
    app[http_devices.SIP] = SipClientSettings.from_settings(rt.settings)
    app[http_devices.SESSIONS] = DeviceSessions(rt.ami)
    app[http_organizations.ORGANIZATIONS_CHANGED] = rt.dialplan.organizations_changed
    app[http_password_links.LINKS] = Links(rt.settings.app_url)
    app[http_password_links.RESET_THROTTLE] = LoginThrottle(
        rt.clock,
        max_per_user=http_password_links.RESET_PER_LOGIN,
        max_per_address=http_password_links.RESET_PER_ADDRESS,
        window_s=http_password_links.RESET_WINDOW_S,
    )


def _ami_workers(rt: Runtime, ami: AmiClient) -> list[Worker]:
    """Asterisk's cache of SIP accounts follows the database (sip_cache.py)."""
    invalidator = SipCacheInvalidator(rt.settings.database_url, ami)
    invalidator.attach()
    return [invalidator]


FEATURE = Feature(
    name="tenancy",
    routes=(
        http_users.routes,
        http_devices.routes,
        http_my_devices.routes,
        http_numbers.routes,
        http_organizations.routes,
        http_trunks.routes,
        http_password_links.routes,
    ),
    app=_app,
    ami_workers=_ami_workers,
)
