"""The directory in the control service: search, phonebooks, favorites and presence over HTTP
(the caller names it gives the routing of calls are wired in routing/feature.py)."""

from __future__ import annotations

from pbx_control.directory import http, http_contacts, http_presence
from pbx_control.feature import Feature

FEATURE = Feature(name="directory", routes=(http_contacts.routes, http.routes, http_presence.routes))
