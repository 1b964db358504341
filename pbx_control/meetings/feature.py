"""Meetings: rooms with a PIN on Asterisk ConfBridge (the HTTP side so far)."""

from __future__ import annotations

from pbx_control.feature import Feature
from pbx_control.meetings import http

FEATURE = Feature(name="meetings", routes=(http.routes,))
