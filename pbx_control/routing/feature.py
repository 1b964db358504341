"""Routing in the control service: its dialplan include. The FastAGI handlers every call passes
through are its call path (call_path.py)."""

from __future__ import annotations

from pbx_control.feature import Feature

FEATURE = Feature(name="routing", dialplan="extensions_routing.conf")
