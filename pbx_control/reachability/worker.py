"""The prompt worker: makes the announcement audio of activities, off every call's path.

It wakes on `NOTIFY pbx_prompts` (triggers in pbx_control/sql/003_reachability.sql: an activity set without
audio, a user renamed or changing language) and every `interval_s` anyway (a missed notification,
a failed espeak-ng run). For each activity still on whose prompt is missing or stale it makes the
sentence, speaks it (prompts.ensure_prompt: cached by content hash, written atomically), then
stores the prompt key, guarded by set_at so an activity changed meanwhile is not overwritten.
One that fails waits before its next try (doubling, up to an hour;
pbx_control/sql/011_prompt_retries.sql), and activities never tried come first, so a few failing
ones never hold up newer ones.
Audio files nobody refers to any more are removed after a day. The sweep and the storing of a
key take one advisory lock (the sweep alone, storers shared), so a file an activity takes into
use again is either still there when its key is stored or made again first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import asyncpg
import asyncpg.pool

from pbx_control.kernel import ids
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.kernel.db import Conn
from pbx_control.logs import get_logger
from pbx_control.reachability.prompts import SUFFIX, ensure_prompt, prompt_path
from pbx_control.reachability.sentences import sentence

log = get_logger(__name__)

CHANNEL = "pbx_prompts"
SWEEP_LOCK = 7_454_006  # pg advisory lock: the sweep exclusive, storing a prompt key shared
_STALE = """
SELECT a.user_id, a.kind, a.until, a.set_at, a.prompt_attempts, c.spoken_text, u.name, u.language,
       o.timezone
  FROM user_activities a
  JOIN users u ON u.id = a.user_id
  JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN custom_activities c ON c.id = a.custom_activity_id
 WHERE a.kind <> 'available' AND (a.until IS NULL OR a.until > $2)
   AND (a.prompt IS NULL OR a.prompt_name IS DISTINCT FROM u.name
        OR a.prompt_language IS DISTINCT FROM u.language)
   AND (a.prompt_next_try IS NULL OR a.prompt_next_try <= now())  -- retries: the database's time
 ORDER BY a.prompt_next_try NULLS FIRST, a.set_at
 LIMIT $1
"""
_STORE = """
UPDATE user_activities
   SET prompt = $3, prompt_text = $4, prompt_name = $5, prompt_language = $6
 WHERE user_id = $1 AND set_at = $2
"""
_FAILED = """
UPDATE user_activities
   SET prompt_attempts = prompt_attempts + 1, prompt_next_try = now() + make_interval(secs => $3)
 WHERE user_id = $1 AND set_at = $2
"""
_IN_USE = "SELECT prompt FROM user_activities WHERE prompt IS NOT NULL"


class PromptWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        prompts_dir: Path,
        *,
        interval_s: float = 5.0,
        batch: int = 50,
        keep_unused_s: float = 86400.0,
        listen_dsn: str | None = None,
        clock: Clock = system_clock,
        retry_base_s: float = 10.0,
        retry_max_s: float = 3600.0,
    ) -> None:
        """listen_dsn: LISTEN on a connection of its own (else one borrowed from the pool for good,
        which the routing queries then lack). clock: "now" for which activities are still on and
        for the sentence's end time ("till klockan 14.30" or "till onsdag klockan 0.46"). A failed
        prompt is tried again after retry_base_s, doubling with each failure up to retry_max_s."""
        self._pool = pool
        self._clock = clock
        self._listen_dsn = listen_dsn
        self.prompts_dir = prompts_dir
        self._interval_s = interval_s
        self._batch = batch
        self._keep_unused_s = keep_unused_s
        self._retry_base_s = retry_base_s
        self._retry_max_s = retry_max_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._listener: Conn | None = None
        self._last_sweep = 0.0
        self.made = 0
        self.failed = 0

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="prompt-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop_listener()

    def kick(self) -> None:
        self._wake.set()

    # -- loop -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
                await self.run_once()
                if time.monotonic() - self._last_sweep > 3600:
                    await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("prompt.worker_failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval_s):
                    await self._wake.wait()
            self._wake.clear()

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        await self._drop_listener()
        conn = await (asyncpg.connect(self._listen_dsn) if self._listen_dsn else self._pool.acquire())
        try:
            await conn.add_listener(CHANNEL, self._notified)
        except Exception:
            await self._close(conn)
            raise
        self._listener = conn

    async def _drop_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.remove_listener(CHANNEL, self._notified)
        await self._close(conn)

    async def _close(self, conn: Conn) -> None:
        with contextlib.suppress(Exception):
            if isinstance(conn, asyncpg.pool.PoolConnectionProxy):  # borrowed: no listen_dsn
                await self._pool.release(conn)
            else:
                await conn.close()

    def _notified(self, *_: object) -> None:
        self._wake.set()

    # -- work -----------------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Make every missing or stale prompt now; return how many were stored."""
        stored = 0
        rows = await self._pool.fetch(_STALE, self._batch, self._clock())
        for r in rows:
            now = self._clock()
            args = dict(language=r["language"], timezone=r["timezone"], custom_text=r["spoken_text"])
            text = sentence(r["name"], r["kind"], r["until"], now, **args)
            spoken = sentence(r["name"], r["kind"], r["until"], now, spoken=True, **args)
            try:
                key, result = await self._make_and_store(r, text, spoken)
            except (OSError, RuntimeError) as exc:
                self.failed += 1
                delay = min(self._retry_max_s, self._retry_base_s * 2.0 ** min(r["prompt_attempts"], 20))
                await self._pool.execute(_FAILED, r["user_id"], r["set_at"], delay)
                log.warning("prompt.failed", user_id=r["user_id"], error=str(exc), retry_in_s=delay)
                continue
            if result.endswith(" 1"):
                stored += 1
                self.made += 1
                log.info("prompt.ready", user_id=r["user_id"], prompt=key)
        return stored

    async def _make_and_store(self, r: asyncpg.Record, text: str, spoken: str) -> tuple[str, str]:
        """Make the file, then store its key (the UPDATE's status) under the sweep lock once the
        file is seen there: a sweep that removed it in between (nobody's until now) has it made
        again first."""
        for _ in range(3):
            key = await ensure_prompt(self.prompts_dir, spoken, r["language"])
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", SWEEP_LOCK)
                if prompt_path(self.prompts_dir, key).exists():
                    result = await conn.execute(
                        _STORE, r["user_id"], r["set_at"], key, text, r["name"], r["language"]
                    )
                    return key, result
        raise RuntimeError(f"prompt {key} was removed each time before it could be stored")

    async def sweep(self) -> int:
        """Remove audio files no activity refers to, older than keep_unused_s. Under the sweep
        lock, so no prompt key is stored between reading which are in use and the removal."""
        self._last_sweep = time.monotonic()
        if not self.prompts_dir.is_dir():
            return 0
        cutoff = time.time() - self._keep_unused_s
        removed = 0
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", SWEEP_LOCK)
            in_use = {r["prompt"] for r in await conn.fetch(_IN_USE)}
            for path in self.prompts_dir.glob(f"*{SUFFIX}"):
                key = path.name.removesuffix(SUFFIX)
                if ids.PROMPT.fullmatch(key) and key not in in_use:
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
        return removed
