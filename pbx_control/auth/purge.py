"""The expired-token purge: every PBX_TOKEN_PURGE_INTERVAL_S seconds (and once at start) the
service deletes API tokens past their expiry. Lookups already refuse them; this keeps api_tokens
from growing with every login that is never logged out. Started with the API (service.py)."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from pbx_control.auth.tokens import purge_expired_tokens
from pbx_control.logs import get_logger

log = get_logger("pbx_control.auth")


class TokenPurgeWorker:
    def __init__(self, pool: asyncpg.Pool, *, interval_s: float = 3600.0) -> None:
        self._pool = pool
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self.runs = 0
        self.purged = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="token-purge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> int:
        n = await purge_expired_tokens(self._pool)
        self.runs += 1
        self.purged += n
        if n:
            log.info("tokens.purged", tokens=n)
        return n

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("tokens.purge_failed")
            await asyncio.sleep(self._interval_s)
