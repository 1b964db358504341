"""The browser softphone: its account route and the echo-test number (extensions_webphone.conf)."""

from __future__ import annotations

from pbx_control.feature import Feature
from pbx_control.webphone import http

FEATURE = Feature(name="webphone", routes=(http.routes,), dialplan="extensions_webphone.conf")
