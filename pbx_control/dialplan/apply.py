"""Hand a decision to the dialplan over a FastAGI session."""

from __future__ import annotations

import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.dialplan.contract import Decision, route_last


async def apply_decision(session: AgiSession, route: Decision) -> None:
    """Hand the route's variables over in one write, PBX_ROUTE last: a handler cut off before it
    leaves the call to the fallback, never to half a decision."""
    await apply_variables(session, route.variables())
    # One log line per call: the session's `agi.session.end` carries the decision.
    structlog.contextvars.bind_contextvars(route=route.action, route_reason=route.reason)


async def apply_variables(session: AgiSession, variables: dict[str, str]) -> None:
    """Checked variables by name (contract.variables), PBX_ROUTE among them and set last, as the
    session's last word (AgiSession.set_variables_and_end: one write, no round trip)."""
    await session.set_variables_and_end(route_last(variables))
