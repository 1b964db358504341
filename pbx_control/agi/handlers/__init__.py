"""One FastAGI handler per dialplan decision. Handlers only set variables; the dialplan acts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from pbx_control.agi.handlers.inbound import make_inbound_handler
from pbx_control.agi.handlers.route import make_route_handler
from pbx_control.agi.session import AgiSession
from pbx_control.routing.repository import RoutingRepository

Handler = Callable[[AgiSession], Awaitable[None]]


def build_handlers(pool: asyncpg.Pool) -> dict[str, Handler]:
    repo = RoutingRepository(pool)
    return {
        "route": make_route_handler(repo),
        "inbound": make_inbound_handler(repo),
    }
