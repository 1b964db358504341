"""`inbound`: a call from the carrier to one of our numbers (context pbx-from-trunk)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from pbx_control.agi.handlers.apply import apply_route
from pbx_control.agi.handlers.targets import Targets
from pbx_control.agi.session import AgiSession
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.calls import CallerNameLookup, CallRouter
from pbx_control.routing.repository import RoutingRepository


def make_inbound_handler(
    repo: RoutingRepository,
    targets: Targets | None = None,
    caller_name: CallerNameLookup | None = None,
    clock: Clock = system_clock,
) -> Callable[[AgiSession], Awaitable[None]]:
    router = CallRouter(repo, targets or Targets(), caller_name)

    async def inbound(session: AgiSession) -> None:
        organization, decision = await router.from_carrier(
            session.extension,
            session.callerid_num,
            session.env.get("agi_callingpres", "0"),
            clock(),
        )
        if organization:
            structlog.contextvars.bind_contextvars(organization=organization)
        await apply_route(session, decision)

    return inbound
