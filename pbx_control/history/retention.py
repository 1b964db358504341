"""The retention purge: history rows and channel events older than PBX_HISTORY_RETENTION_DAYS are
deleted, once at start and then every hour."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from pbx_control.history.repository import purge
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.logs import get_logger

log = get_logger("pbx_control.history")


class RetentionWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        retention_days: int,
        *,
        interval_s: float = 3600.0,
        clock: Clock = system_clock,
    ) -> None:
        self._pool = pool
        self._days = retention_days
        self._interval_s = interval_s
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self.purged = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="history-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> int:
        n = await purge(self._pool, self._clock(), self._days)
        self.purged += n
        if n:
            log.info("history.purged", extra={"rows": n, "retention_days": self._days})
        return n

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("history.purge_failed")
            await asyncio.sleep(self._interval_s)
