"""`inbound`: a call from the carrier to one of our numbers (context pbx-from-trunk)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from pbx_control.agi.handlers.apply import apply_route
from pbx_control.agi.handlers.targets import Targets
from pbx_control.agi.session import AgiSession
from pbx_control.routing.decision import Route, decide_inbound
from pbx_control.routing.dialled import to_e164
from pbx_control.routing.repository import RoutingRepository


def make_inbound_handler(
    repo: RoutingRepository, targets: Targets | None = None
) -> Callable[[AgiSession], Awaitable[None]]:
    targets = targets or Targets()

    async def inbound(session: AgiSession) -> None:
        number = to_e164(session.extension)
        if number is None:
            await apply_route(session, Route("unknown", reason="not a number"))
            return
        organization, callee = await repo.by_number(number)
        if organization:
            structlog.contextvars.bind_contextvars(organization=organization)
            if callee is None:
                other = await targets.by_number(organization, number)
                if other is not None:
                    await apply_route(session, other)
                    return
        await apply_route(session, decide_inbound(organization, callee))

    return inbound
