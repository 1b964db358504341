"""One FastAGI handler per dialplan decision. Handlers only set variables; the dialplan acts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from pbx_control.agi.handlers.inbound import make_inbound_handler
from pbx_control.agi.handlers.route import make_route_handler
from pbx_control.agi.handlers.targets import Targets
from pbx_control.agi.session import AgiSession
from pbx_control.directory.caller_names import caller_name as directory_caller_name
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.calls import CallerNameLookup
from pbx_control.routing.repository import RoutingRepository

Handler = Callable[[AgiSession], Awaitable[None]]


def build_handlers(
    pool: asyncpg.Pool,
    targets: Targets | None = None,
    extra: dict[str, Handler] | None = None,
    caller_name: CallerNameLookup | None = None,
    clock: Clock = system_clock,
) -> dict[str, Handler]:
    """targets: non-user call targets (answer groups...); extra: further handlers by route name;
    caller_name: how inbound callers are named (default: the directory's phonebook lookup);
    clock: "now" for activities, settings and their end times."""
    repo = RoutingRepository(pool)
    targets = targets or Targets()
    names = caller_name or directory_caller_name
    return {
        "route": make_route_handler(repo, targets, names, clock),
        "inbound": make_inbound_handler(repo, targets, names, clock),
        **(extra or {}),
    }
