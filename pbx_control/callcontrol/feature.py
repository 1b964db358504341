"""Call control in the control service: my calls, hang up, blind transfer and park over HTTP."""

from __future__ import annotations

from aiohttp import web

from pbx_control.callcontrol import http, http_calls, http_transfers
from pbx_control.callcontrol.actions import CallControl
from pbx_control.callcontrol.hold import Hold
from pbx_control.callcontrol.transfer import Transfers
from pbx_control.feature import Feature, Runtime


def _app(app: web.Application, rt: Runtime) -> None:
    ami, calls = rt.ami, rt.calls
    app[http.CALL_CONTROL] = CallControl(ami, calls) if ami is not None and calls is not None else None
    app[http_transfers.TRANSFERS] = (
        Transfers(ami, calls, rt.events) if ami is not None and calls is not None else None
    )
    app[http.HOLD] = Hold(ami, calls, rt.events) if ami is not None and calls is not None else None


FEATURE = Feature(
    name="callcontrol",
    routes=(http.routes, http_transfers.routes, http_calls.routes),
    dialplan="extensions_callcontrol.conf",
    app=_app,
)
