"""The routing feature's FastAGI handlers. They only set variables; the dialplan acts.

`route`: a call placed from one of an organization's devices (context pbx-from-device).
`inbound`: a call from the carrier to one of our numbers (context pbx-from-trunk).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from pbx_control.agi.server import decides_first
from pbx_control.agi.session import AgiSession
from pbx_control.dialplan.apply import apply_decision
from pbx_control.kernel import ids
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.calls import CallRouter
from pbx_control.routing.decision import Route

Handler = Callable[[AgiSession], Awaitable[None]]


def make_route_handler(router: CallRouter, clock: Clock = system_clock) -> Handler:
    async def route(session: AgiSession) -> None:
        # The organization comes from the authenticated endpoint's accountcode, never from SIP data.
        org = session.accountcode
        if not ids.is_slug(org) or not session.endpoint:
            await apply_decision(session, Route("unknown", reason="call without organization"))
            return
        structlog.contextvars.bind_contextvars(organization=org)
        decision = await router.from_device(org, session.endpoint, session.extension, clock())
        await apply_decision(session, decision)

    return decides_first(route)


def make_inbound_handler(router: CallRouter, clock: Clock = system_clock) -> Handler:
    async def inbound(session: AgiSession) -> None:
        organization, decision = await router.from_carrier(
            session.extension,
            session.callerid_num,
            session.env.get("agi_callingpres", "0"),
            clock(),
        )
        if organization:
            structlog.contextvars.bind_contextvars(organization=organization)
        await apply_decision(session, decision)

    return decides_first(inbound)
