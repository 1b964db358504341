"""The retention purge: history rows and channel events older than PBX_HISTORY_RETENTION_DAYS are
deleted, once at start and then every hour."""

from __future__ import annotations

import asyncpg

from pbx_control.history.repository import purge
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.kernel.periodic import PeriodicWorker
from pbx_control.logs import get_logger

log = get_logger("pbx_control.history")


class RetentionWorker(PeriodicWorker):
    name = "history.purge"

    def __init__(
        self,
        pool: asyncpg.Pool,
        retention_days: int,
        *,
        interval_s: float = 3600.0,
        clock: Clock = system_clock,
    ) -> None:
        super().__init__(interval_s)
        self._pool = pool
        self._days = retention_days
        self._clock = clock
        self.purged = 0

    async def run_once(self) -> int:
        n = await purge(self._pool, self._clock(), self._days)
        self.purged += n
        if n:
            log.info("history.purged", extra={"rows": n, "retention_days": self._days})
        return n
