"""The call policy in the control service: its HTTP routes and the dialplan that holds trunk legs
to the organization's limits (extensions_policy.conf). The decision itself (model.py) is used by
routing, reachability, groups and call control where they check a destination."""

from __future__ import annotations

from pbx_control.feature import Feature
from pbx_control.policy import http

FEATURE = Feature(name="policy", routes=(http.routes,), dialplan="extensions_policy.conf")
