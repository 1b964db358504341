"""Hand a Route to the dialplan."""

from __future__ import annotations

import structlog

from pbx_control.agi.handlers.targets import Decision
from pbx_control.agi.session import AgiSession

log = structlog.get_logger("pbx_control.agi.route")


async def apply_route(session: AgiSession, route: Decision) -> None:
    """Set the route's variables, PBX_ROUTE last: the dialplan only trusts a route once it is set,
    so a handler cut off half way leaves the call to the fallback, never to half a decision."""
    variables = route.variables()
    action = variables.pop("PBX_ROUTE")
    for name, value in variables.items():
        await session.set_variable(name, value)
    await session.set_variable("PBX_ROUTE", action)
    log.info("route.decided", action=route.action, reason=route.reason)
