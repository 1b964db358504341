"""The event loop the service's processes run on (Settings.event_loop, PBX_EVENT_LOOP).

`uvloop` (the default): libuv's loop, the one asyncpg is written for; its socket reads and writes,
timers and callbacks cost a fraction of the standard loop's, which is most of what a FastAGI
decision, a WebSocket fan-out and an API request do (BENCHMARKS.md has the figures). `asyncio`:
the standard library's loop, as the tests run in-process.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_main(main: Coroutine[Any, Any, T], kind: str = "uvloop") -> T:
    """asyncio.run(main) on the loop `kind` names."""
    if kind == "asyncio":
        return asyncio.run(main)
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def settle_heap() -> None:
    """Once a process has started (modules, routes, schemas, pools: hundreds of thousands of
    objects that live as long as it does): collect, then move every object left out of the
    collector's reach (gc.freeze). A full collection then walks only what requests, calls and
    events made since, so it pauses the event loop for less. Called by each process's entry point
    after its start, never by code that tests run many times in one process."""
    gc.collect()
    gc.freeze()
