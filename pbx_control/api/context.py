"""What handlers get: the app's shared objects (typed AppKeys) and a per-request Ctx."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from aiohttp import web

from pbx_control.api.errors import ApiError
from pbx_control.api.sip import SipClientSettings
from pbx_control.auth.tokens import Principal
from pbx_control.config import Settings
from pbx_control.kernel.clock import Clock
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")

HealthProbe = Callable[[], Awaitable[dict]]
Hook = Callable[[], Awaitable[None]]

POOL = web.AppKey("pool", asyncpg.Pool)
SETTINGS = web.AppKey("settings", Settings)
SIP = web.AppKey("sip", SipClientSettings)
HEALTH_PROBE = web.AppKey("health_probe", object)
ORGS_CHANGED = web.AppKey("on_organizations_changed", object)
OPENAPI = web.AppKey("openapi", dict)
# Where "now" comes from for end times, sentences, night mode and expiry (create_app: system clock).
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
# The AMI side, when this process runs it (None otherwise): live calls, AMI actions, pushed events.
CALLS = web.AppKey("calls", object)  # pbx_control.ami.CallModel | None
AMI = web.AppKey("ami", object)  # pbx_control.ami.AmiClient | None
EVENTS = web.AppKey("events", object)  # pbx_control.ami.EventPublisher | None
CALL_CONTROL = web.AppKey("call_control", object)  # pbx_control.callcontrol.actions.CallControl | None


def _request_key(name: str, kind: type) -> Any:
    """web.RequestKey on aiohttp >= 3.14 (no NotAppKeyWarning), a plain string before."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory is not None else name


PRINCIPAL = _request_key("principal", Principal)
TOKEN = _request_key("token", str)
REQUEST_ID = _request_key("request_id", str)


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
        principal = self.request.get(PRINCIPAL)
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


async def organizations_changed(app: web.Application) -> None:
    """Run the on_organizations_changed hook; a failure is logged, never returned to the client."""
    hook = app.get(ORGS_CHANGED)
    if hook is None:
        return
    try:
        await hook()  # type: ignore[operator]
    except Exception:
        log.exception("organizations_changed_hook_failed")
