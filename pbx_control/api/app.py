"""The aiohttp application: the routes it is given plus the kernel's own (health, OpenAPI), one
OpenAPI document of exactly those, and the middlewares. Features are composed by the service."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from aiohttp import web

from pbx_control.ami import AmiClient, CallModel, EventPublisher
from pbx_control.api import context, health, login, meta
from pbx_control.api.context import HealthProbe
from pbx_control.api.errors import error_middleware
from pbx_control.api.middlewares import auth_middleware, request_log_middleware, server_timing
from pbx_control.api.openapi import build_document
from pbx_control.api.registry import Operation, RouteTable, install
from pbx_control.api.webapp import install_webapp
from pbx_control.auth.throttle import LoginThrottle
from pbx_control.auth.tickets import TicketStore
from pbx_control.auth.tokens import token_lookups
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.kernel.clock import Clock, system_clock

PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 * 1024


def all_operations(tables: Sequence[RouteTable]) -> list[Operation]:
    """The given routes and the kernel's own, in the order they are installed and documented."""
    return [op for table in (login.routes, *tables, health.routes, meta.routes) for op in table.routes]


def create_app(
    settings: Settings,
    pool: asyncpg.Pool,
    tables: Sequence[RouteTable],
    *,
    dialplan: Dialplan,
    health_probe: HealthProbe | None = None,
    calls: CallModel | None = None,
    ami: AmiClient | None = None,
    events: EventPublisher | None = None,
    clock: Clock = system_clock,
) -> web.Application:
    """Build the API app from route tables.

    health_probe: returns e.g. {"ami": {"ok": True, ...}, "agi": {...}} for GET /health; a component
    with "ok": False makes the status "degraded" (503).
    calls / ami / events: the CallModel, AmiClient and EventPublisher when this process runs AMI.
    clock: "now" for end times, sentences, night mode and expiry (tests pass a fixed one).
    """
    app = web.Application(
        middlewares=[request_log_middleware, error_middleware, auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app.on_response_prepare.append(server_timing)
    app[context.SETTINGS] = settings
    app[context.POOL] = pool
    app[context.DIALPLAN] = dialplan
    app[context.HEALTH_PROBE] = health_probe
    app[context.CALLS] = calls
    app[context.AMI] = ami
    app[context.EVENTS] = events
    app[context.CLOCK] = clock
    app[context.LOGIN_THROTTLE] = LoginThrottle(
        clock,
        max_per_user=settings.login_max_failures,
        max_per_address=settings.login_max_failures_per_address,
        window_s=settings.login_window_s,
    )
    app[context.TICKETS] = TicketStore(clock)
    app[context.TOKEN_LOOKUPS] = token_lookups(pool)
    operations = all_operations(tables)
    install(app, PREFIX, operations)
    app[context.OPENAPI] = build_document(operations, PREFIX)
    install_webapp(app)
    return app
