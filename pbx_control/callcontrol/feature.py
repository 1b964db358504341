"""Call control in the control service: my calls, hang up, blind transfer and park over HTTP."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from pbx_control.callcontrol import http, http_calls, http_transfers
from pbx_control.callcontrol.actions import CallControl
from pbx_control.callcontrol.agi import make_move_handler
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.move import Moves
from pbx_control.callcontrol.transfer import Transfers
from pbx_control.feature import AgiHandler, Feature, Runtime


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


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    return {"move_here": make_move_handler(rt.call_pool, rt.calls)}


FEATURE = Feature(
    name="callcontrol",
    routes=(http.routes, http_transfers.routes, http_calls.routes),
    dialplan="extensions_callcontrol.conf",
    agi=_agi,
    app=_app,
)
