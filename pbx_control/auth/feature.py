"""Authentication in the control service: log in and out over HTTP (the tokens themselves are the
API kernel's auth context)."""

from __future__ import annotations

from pbx_control.auth import http
from pbx_control.feature import Feature

FEATURE = Feature(name="auth", routes=(http.routes,))
