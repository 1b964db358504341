"""Call control in the control service: my calls, hang up, blind transfer and park over HTTP, and
the live query its call path (call_path.py: *88) asks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from pbx_control.callcontrol import http, http_calls, http_transfers
from pbx_control.callcontrol.actions import CallControl
from pbx_control.callcontrol.agi import MOVE_QUERY, take_from
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.move import Moves
from pbx_control.callcontrol.transfer import Transfers
from pbx_control.feature import Feature, LiveQuery, Runtime


def _app(app: web.Application, rt: Runtime) -> None:
    ami, calls = rt.ami, rt.calls
    app[http.CALL_CONTROL] = (
        CallControl(ami, calls, rt.events) if ami is not None and calls is not None else None
    )
    app[http_transfers.TRANSFERS] = (
        Transfers(ami, calls, rt.events) if ami is not None and calls is not None else None
    )
    app[http.HOLD] = Hold(ami, calls, rt.events) if ami is not None and calls is not None else None
    app[http_calls.MOVES] = Moves(ami, calls, rt.events) if ami is not None and calls is not None else None


def _live_queries(rt: Runtime) -> Mapping[str, LiveQuery]:
    calls = rt.calls
    if calls is None:
        return {}

    async def call_to_take(endpoints: Any) -> list[str] | None:
        return take_from(calls, [str(e) for e in endpoints]) if isinstance(endpoints, list) else None

    return {MOVE_QUERY: call_to_take}


FEATURE = Feature(
    name="callcontrol",
    routes=(http.routes, http_transfers.routes, http_calls.routes),
    dialplan="extensions_callcontrol.conf",
    live_queries=_live_queries,
    app=_app,
)
