"""`route`: a call placed from one of an organization's devices (context pbx-from-device)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import structlog

from pbx_control.agi.handlers.apply import apply_route
from pbx_control.agi.handlers.targets import Targets
from pbx_control.agi.session import AgiSession
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.calls import CallerNameLookup, CallRouter
from pbx_control.routing.decision import Route
from pbx_control.routing.repository import RoutingRepository

_SLUG = re.compile(r"^[a-z][a-z0-9]{1,23}$")


def make_route_handler(
    repo: RoutingRepository,
    targets: Targets | None = None,
    caller_name: CallerNameLookup | None = None,
    clock: Clock = system_clock,
) -> Callable[[AgiSession], Awaitable[None]]:
    router = CallRouter(repo, targets or Targets(), caller_name)

    async def route(session: AgiSession) -> None:
        # The organization comes from the authenticated endpoint's accountcode, never from SIP data.
        org = session.accountcode
        if not _SLUG.match(org) or not session.endpoint:
            await apply_route(session, Route("unknown", reason="call without organization"))
            return
        structlog.contextvars.bind_contextvars(organization=org)
        decision = await router.from_device(org, session.endpoint, session.extension, clock())
        await apply_route(session, decision)

    return route
