"""The aiohttp application: routes from the registry, the OpenAPI document, middlewares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from pbx_control.ami import AmiClient, CallModel, EventPublisher
from pbx_control.api import context
from pbx_control.api.errors import error_middleware
from pbx_control.api.middlewares import auth_middleware, request_log_middleware
from pbx_control.api.openapi import build_document
from pbx_control.api.registry import install
from pbx_control.api.routes import all_routes
from pbx_control.api.sip import SipClientSettings
from pbx_control.callcontrol.actions import CallControl
from pbx_control.config import Settings
from pbx_control.kernel.clock import Clock, system_clock

PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    pool: asyncpg.Pool,
    *,
    health_probe: Callable[[], Awaitable[dict]] | None = None,
    on_organizations_changed: Callable[[], Awaitable[None]] | None = None,
    sip: SipClientSettings | None = None,
    calls: CallModel | None = None,
    ami: AmiClient | None = None,
    events: EventPublisher | None = None,
    clock: Clock = system_clock,
) -> web.Application:
    """Build the API app.

    health_probe: returns e.g. {"ami": {"ok": True, ...}, "agi": {...}} for GET /health; a component
    with "ok": False makes the status "degraded" (503).
    on_organizations_changed: awaited after an organization is created or deleted; failures are
    logged. sip: where softphones register (default: PBX_SIP_DOMAIN / PBX_SIP_PORT).
    calls / ami / events: the CallModel, AmiClient and EventPublisher when this process runs AMI.
    clock: "now" for end times, sentences, night mode and expiry (tests pass a fixed one).
    """
    app = web.Application(
        middlewares=[request_log_middleware, error_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[context.SETTINGS] = settings
    app[context.POOL] = pool
    app[context.SIP] = sip or SipClientSettings.from_env()
    app[context.HEALTH_PROBE] = health_probe
    app[context.ORGS_CHANGED] = on_organizations_changed
    app[context.CALLS] = calls
    app[context.AMI] = ami
    app[context.EVENTS] = events
    app[context.CLOCK] = clock
    app[context.CALL_CONTROL] = CallControl(ami, calls) if ami is not None and calls is not None else None
    routes = all_routes()
    install(app, PREFIX, routes)
    app[context.OPENAPI] = build_document(routes, PREFIX)
    return app
