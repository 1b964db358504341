"""The expired-token purge: every PBX_TOKEN_PURGE_INTERVAL_S seconds (and once at start) the
service deletes API tokens past their expiry. Lookups already refuse them; this keeps api_tokens
from growing with every login that is never logged out. Started with the API (service.py)."""

from __future__ import annotations

import asyncpg

from pbx_control.auth.tokens import purge_expired_tokens
from pbx_control.kernel.periodic import PeriodicWorker
from pbx_control.logs import get_logger

log = get_logger("pbx_control.auth")


class TokenPurgeWorker(PeriodicWorker):
    name = "tokens.purge"

    def __init__(self, pool: asyncpg.Pool, *, interval_s: float = 3600.0) -> None:
        super().__init__(interval_s)
        self._pool = pool
        self.runs = 0
        self.purged = 0

    async def run_once(self) -> int:
        n = await purge_expired_tokens(self._pool)
        self.runs += 1
        self.purged += n
        if n:
            log.info("tokens.purged", tokens=n)
        return n
