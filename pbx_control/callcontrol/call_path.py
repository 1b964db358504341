"""Call control where calls are routed: `move_here` (*88), which takes over a call of the caller's
from another of their devices. The call model lives where AMI runs: a FastAGI process of its own
asks the service (Runtime.ask_live, answered by feature.py's live query)."""

from __future__ import annotations

from collections.abc import Mapping

from pbx_control.callcontrol.agi import MOVE_QUERY, Finder, make_move_handler, take_from
from pbx_control.feature import AgiHandler, CallPath, Runtime


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    find: Finder | None = None
    calls, ask = rt.calls, rt.ask_live
    if calls is not None:

        async def local(endpoints: list[str]) -> list[str] | None:
            return take_from(calls, endpoints)

        find = local
    elif ask is not None:  # FastAGI in its own process: the service's call model answers

        async def remote(endpoints: list[str]) -> list[str] | None:
            found = await ask(MOVE_QUERY, endpoints)
            ok = isinstance(found, list) and len(found) == 2 and all(isinstance(x, str) for x in found)
            return [str(x) for x in found] if ok else None

        find = remote
    return {"move_here": make_move_handler(rt.call_pool, find)}


CALL_PATH = CallPath(name="callcontrol", agi=_agi)
