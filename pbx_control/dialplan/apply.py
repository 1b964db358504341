"""Hand a decision to the dialplan over a FastAGI session."""

from __future__ import annotations

import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.dialplan.contract import PACK, Decision, pack


async def apply_decision(session: AgiSession, route: Decision) -> None:
    """Hand the route's variables over in one round trip (PBX_PACK, unpacked by the dialplan's
    [pbx-unpack]): a handler cut off before it leaves the call to the fallback, never to half a
    decision."""
    await apply_variables(session, route.variables())
    # One log line per call: the session's `agi.session.end` carries the decision.
    structlog.contextvars.bind_contextvars(route=route.action, route_reason=route.reason)


async def apply_variables(session: AgiSession, variables: dict[str, str]) -> None:
    """Checked variables by name (contract.variables), PBX_ROUTE among them, as one PBX_PACK."""
    await session.set_variable(PACK.name, pack(variables))
