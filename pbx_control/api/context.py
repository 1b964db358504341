"""What handlers get: the app's shared objects (typed AppKeys) and a per-request Ctx."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

import asyncpg
from aiohttp import web

from pbx_control.ami import AmiClient, CallModel, EventPublisher
from pbx_control.api.errors import ApiError
from pbx_control.auth.throttle import LoginThrottle
from pbx_control.auth.tickets import TicketStore
from pbx_control.auth.tokens import Principal
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.kernel.batch import BatchLookup
from pbx_control.kernel.clock import Clock
from pbx_control.kernel.timing import RequestTiming
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")

HealthProbe = Callable[[], Awaitable[dict[str, Any]]]

POOL = web.AppKey("pool", asyncpg.Pool)
SETTINGS = web.AppKey("settings", Settings)
HEALTH_PROBE: web.AppKey[HealthProbe | None] = web.AppKey("health_probe")
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
DIALPLAN = web.AppKey("dialplan", Dialplan)
# Where "now" comes from for end times, sentences, night mode and expiry (create_app: system clock).
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
# Failed logins counted per username and client address (in memory, this process only).
LOGIN_THROTTLE = web.AppKey("login_throttle", LoginThrottle)
# Bearer tokens of concurrent requests looked up in one query (auth/tokens.py; nothing cached).
TOKEN_LOOKUPS: web.AppKey[BatchLookup[str, Principal]] = web.AppKey("token_lookups")
# Single-use WebSocket tickets (in memory, this process only).
TICKETS = web.AppKey("tickets", TicketStore)
# The AMI side, when this process runs it (None otherwise): live calls, AMI actions, pushed events.
CALLS: web.AppKey[CallModel | None] = web.AppKey("calls")
AMI: web.AppKey[AmiClient | None] = web.AppKey("ami")
EVENTS: web.AppKey[EventPublisher | None] = web.AppKey("events")


_T = TypeVar("_T")


def _request_key(name: str, kind: type[_T]) -> web.RequestKey[_T]:
    """web.RequestKey on aiohttp >= 3.14 (no NotAppKeyWarning), a plain string before."""
    factory = getattr(web, "RequestKey", None)
    # Typed as a RequestKey: a request looks a plain string key up the same way (aiohttp < 3.14).
    return factory(name, kind) if factory is not None else cast("web.RequestKey[_T]", name)


PRINCIPAL = _request_key("principal", Principal)
TOKEN = _request_key("token", str)
REQUEST_ID = _request_key("request_id", str)
TIMING = _request_key("timing", RequestTiming)  # Server-Timing (kernel/timing.py)


@dataclass
class Reply:
    """A handler's result with a status other than the route's default (e.g. 503 from /health)."""

    value: Any
    status: int


@dataclass
class Ctx:
    request: web.Request
    body: Any = None
    params: dict[str, int] = field(default_factory=dict)

    @property
    def app(self) -> web.Application:
        return self.request.app

    @property
    def pool(self) -> asyncpg.Pool:
        return self.request.app[POOL]

    @property
    def settings(self) -> Settings:
        return self.request.app[SETTINGS]

    def now(self) -> datetime:
        """The app's clock: an aware UTC datetime."""
        return self.request.app[CLOCK]()

    @property
    def principal(self) -> Principal:
        principal: Principal | None = self.request.get(PRINCIPAL)  # Request.get is untyped (aiohttp 3.14)
        if principal is None:  # only on a public route, which must not ask
            raise ApiError(401, "unauthorized", "authentication required")
        return principal

    @property
    def org_id(self) -> int:
        """The asker's organization; platform admins have none and may not use org routes."""
        org_id = self.principal.organization_id
        if org_id is None:
            raise ApiError(403, "forbidden", "platform admins belong to no organization")
        return org_id

    @property
    def is_admin(self) -> bool:
        return self.principal.role == "admin"
