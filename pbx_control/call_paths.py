"""The features' call paths, in one list: what the FastAGI handlers are built from.

Each entry is the `CALL_PATH` of a feature folder's `call_path.py`. The FastAGI process
(service_agi.py) imports this module and nothing of the features' HTTP routes, schemas or AMI hooks
(tests/unit/test_layering.py); the order is the order in which call targets are asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from pbx_control.callcontrol.call_path import CALL_PATH as CALLCONTROL
from pbx_control.feature import AgiHandler, CallPath, Runtime
from pbx_control.groups.call_path import CALL_PATH as GROUPS
from pbx_control.meetings.call_path import CALL_PATH as MEETINGS
from pbx_control.routing.call_path import CALL_PATH as ROUTING

CALL_PATHS: tuple[CallPath, ...] = (ROUTING, GROUPS, CALLCONTROL, MEETINGS)


def agi_handlers(rt: Runtime, paths: Sequence[CallPath] = CALL_PATHS) -> dict[str, AgiHandler]:
    """Every feature's call targets registered first, then every FastAGI handler by name."""
    for path in paths:
        if path.targets is not None:
            path.targets(rt, rt.targets)
    handlers: dict[str, AgiHandler] = {}
    for path in paths:
        if path.agi is None:
            continue
        for name, handler in path.agi(rt).items():
            if name in handlers:
                raise ValueError(f"FastAGI handler {name!r} declared twice")
            handlers[name] = handler
    return handlers
