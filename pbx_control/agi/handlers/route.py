"""`route`: a call placed from one of an organization's devices (context pbx-from-device)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import structlog

from pbx_control.agi.handlers.apply import apply_route
from pbx_control.agi.handlers.targets import Targets
from pbx_control.agi.session import AgiSession
from pbx_control.routing.decision import Route, decide_internal
from pbx_control.routing.dialled import classify
from pbx_control.routing.repository import RoutingRepository

_SLUG = re.compile(r"^[a-z][a-z0-9]{1,23}$")


def make_route_handler(
    repo: RoutingRepository, targets: Targets | None = None
) -> Callable[[AgiSession], Awaitable[None]]:
    targets = targets or Targets()

    async def route(session: AgiSession) -> None:
        # The organization comes from the authenticated endpoint's accountcode, never from SIP data.
        org = session.accountcode
        if not _SLUG.match(org) or not session.endpoint:
            await apply_route(session, Route("unknown", reason="call without organization"))
            return
        structlog.contextvars.bind_contextvars(organization=org)
        dialled = classify(session.extension)
        callee = await repo.callee(org, dialled.value) if dialled.kind == "extension" else None
        if dialled.kind == "extension" and callee is None:
            other = await targets.by_extension(org, dialled.value)
            if other is not None:
                await apply_route(session, other)
                return
        outbound = await repo.outbound(org, session.endpoint) if dialled.kind == "external" else None
        await apply_route(session, decide_internal(dialled, callee, outbound))

    return route
