"""Routing where calls are routed: the FastAGI handlers every call passes through."""

from __future__ import annotations

import asyncpg

from pbx_control.directory.caller_names import caller_name as directory_caller_name
from pbx_control.feature import AgiHandler, CallPath
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.agi import make_inbound_handler, make_route_handler
from pbx_control.routing.calls import CallerNameLookup, CallRouter
from pbx_control.routing.repository import RoutingRepository
from pbx_control.routing.targets import Targets


def handlers(
    pool: asyncpg.Pool,
    targets: Targets | None = None,
    caller_name: CallerNameLookup | None = directory_caller_name,
    clock: Clock = system_clock,
) -> dict[str, AgiHandler]:
    """`route` and `inbound`. targets: non-user call targets (answer groups...); caller_name: how
    inbound callers are named (the directory's phonebook lookup); clock: "now" for activities,
    settings and their end times."""
    router = CallRouter(RoutingRepository(pool), targets or Targets(), caller_name)
    return {"route": make_route_handler(router, clock), "inbound": make_inbound_handler(router, clock)}


CALL_PATH = CallPath(name="routing", agi=lambda rt: handlers(rt.call_pool, rt.targets, clock=rt.clock))
