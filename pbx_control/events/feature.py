"""Live events in the control service: the organization's WebSocket, and the worker that turns
presence and answer-group changes into events (live.py)."""

from __future__ import annotations

from pbx_control.events import http
from pbx_control.events.live import LiveNotifier
from pbx_control.feature import Feature, Runtime, Worker


def _workers(rt: Runtime) -> list[Worker]:
    if rt.events is None:  # no AMI bridge in this process: no live events here
        return []
    return [LiveNotifier(rt.events, rt.settings.database_url)]


FEATURE = Feature(name="events", routes=(http.routes,), workers=_workers)
