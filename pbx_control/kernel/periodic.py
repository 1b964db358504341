"""A background job run once at start and then every `interval_s` seconds until stopped; a failed
round is logged and the next one runs as planned.

A round that fails because the database or Asterisk is out of reach (an outage the operator sees
elsewhere) logs one warning line without a traceback: rendering a traceback every round during an
outage costs CPU on the event loop the calls' API shares. Any other failure logs its traceback."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog

from pbx_control.kernel.db import CONNECTION_ERRORS
from pbx_control.kernel.errors import Unavailable

# OSError includes refused connections and TimeoutError.
OUT_OF_REACH: tuple[type[BaseException], ...] = (
    Unavailable,
    OSError,
    asyncpg.InterfaceError,
    *CONNECTION_ERRORS,
)


class PeriodicWorker:
    """Subclasses set `name` (the task's name, and `<name>.failed` in the log) and `run_once`."""

    name = "periodic"

    def __init__(self, interval_s: float) -> None:
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._log: Any = structlog.get_logger("pbx_control.kernel.periodic")

    async def run_once(self) -> int:
        raise NotImplementedError

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except OUT_OF_REACH as exc:
                self._log.warning(f"{self.name}_failed", error=repr(exc)[:300])
            except Exception:
                self._log.exception(f"{self.name}_failed")
            await asyncio.sleep(self._interval_s)
