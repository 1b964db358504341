"""Hand a decision to the dialplan over a FastAGI session."""

from __future__ import annotations

import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.dialplan.contract import Decision

log = structlog.get_logger("pbx_control.agi.route")


async def apply_decision(session: AgiSession, route: Decision) -> None:
    """Set the route's variables, PBX_ROUTE last: the dialplan only trusts a route once it is set,
    so a handler cut off half way leaves the call to the fallback, never to half a decision."""
    variables = route.variables()
    action = variables.pop("PBX_ROUTE")
    for name, value in variables.items():
        await session.set_variable(name, value)
    await session.set_variable("PBX_ROUTE", action)
    log.info("route.decided", action=route.action, reason=route.reason)
