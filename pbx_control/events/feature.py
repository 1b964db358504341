"""Live events in the control service: the organization's WebSocket, and the worker that turns
presence and answer-group changes into events (live.py)."""

from __future__ import annotations

from aiohttp import web

from pbx_control.api.context import TOKEN_LOOKUPS
from pbx_control.callcontrol.visibility import ViewerLookups
from pbx_control.events import http
from pbx_control.events.live import LiveNotifier
from pbx_control.events.sockets import OpenSockets
from pbx_control.feature import Feature, Runtime, Worker


def _app(app: web.Application, rt: Runtime) -> None:
    app[http.VIEWERS] = ViewerLookups(rt.pool)
    sockets = app[http.SOCKETS] = OpenSockets(lambda token: app[TOKEN_LOOKUPS].get(token))

    async def stop_checking(_app: web.Application) -> None:
        await sockets.stop()

    app.on_cleanup.append(stop_checking)


def _workers(rt: Runtime) -> list[Worker]:
    if rt.events is None:  # no AMI bridge in this process: no live events here
        return []
    return [LiveNotifier(rt.events, rt.settings.database_url)]


FEATURE = Feature(name="events", routes=(http.routes,), app=_app, workers=_workers)
