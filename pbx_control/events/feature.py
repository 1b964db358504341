"""Live events in the control service: the organization's WebSocket."""

from __future__ import annotations

from pbx_control.events import http
from pbx_control.feature import Feature

FEATURE = Feature(name="events", routes=(http.routes,))
