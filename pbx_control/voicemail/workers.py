"""Background work of visual voicemail (in the process that runs AMI):

- DefaultGreetings: makes each box's default greeting (greeting.py) and writes it into the box
  when it is missing or stale (a new user, a rename, another language or extension), never over
  the owner's own greeting; a failure waits before the next try. The synthesis runs at the
  lowest CPU priority.
- Purges: empties the box of a user who was deleted or given another extension (rows queued by
  the triggers of sql/018_visual_voicemail.sql): messages through AMI VoicemailRemove, greetings and
  the default greeting from the files, only what is older than the purge, so a new owner's first
  message is never taken.
- Retention: removes played messages older than the box's retention_days (the injected clock).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg

from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.kernel.periodic import PeriodicWorker
from pbx_control.logs import get_logger
from pbx_control.reachability.prompts import ensure_prompt, prompt_path
from pbx_control.voicemail import repository
from pbx_control.voicemail.asterisk import refresh
from pbx_control.voicemail.box import Box
from pbx_control.voicemail.greeting import digest, made_for, sentence
from pbx_control.voicemail.service import STALE_MARGIN, Voicemail
from pbx_control.voicemail.spool import Spool

log = get_logger("pbx_control.voicemail.workers")

# A bulk of new users (an import, a new platform's 100,000) is hours of synthesis: it runs at the
# lowest CPU priority, so calls, requests and events never wait behind it.
LOW_PRIORITY = 19


class DefaultGreetings(PeriodicWorker):
    name = "voicemail_default_greetings"

    def __init__(
        self,
        pool: asyncpg.Pool,
        prompts: Path,
        spool: Spool,
        *,
        dsn: str = "",
        interval_s: float = 2.0,
        batch: int = 20,
    ) -> None:
        """dsn: the worker's own connection (else the pool's), so a database that stops answering
        holds no connection the API needs."""
        super().__init__(interval_s)
        self._pool = pool
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None
        self._prompts = prompts
        self._spool = spool
        self._batch = batch

    async def _db(self) -> asyncpg.Connection | asyncpg.Pool:
        if not self._dsn:
            return self._pool
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn, timeout=5)
        return self._conn

    async def stop(self) -> None:
        await super().stop()
        if self._conn is not None:
            self._conn.terminate()
            self._conn = None

    async def run_once(self) -> int:
        try:
            return await self._round()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
            if self._conn is not None:
                self._conn.terminate()
                self._conn = None
            raise

    async def _round(self) -> int:
        db = await self._db()
        rows = await db.fetch(
            "SELECT u.id, u.name, u.language, u.extension, u.created_at, o.slug, b.default_greeting_sha,"
            " b.default_greeting_for"
            "  FROM users u JOIN organizations o ON o.id = u.organization_id"
            "  LEFT JOIN voicemail_boxes b ON b.user_id = u.id"
            # the partial index users_default_greeting_due (sql/030): only users marked due
            " WHERE u.default_greeting_due AND u.extension IS NOT NULL"
            "   AND (b.default_greeting_next_try IS NULL OR b.default_greeting_next_try <= now())"
            " ORDER BY b.default_greeting_next_try NULLS FIRST, u.id LIMIT $1",
            self._batch,
        )
        made = 0
        for row in rows:
            box = Box(row["slug"], row["extension"])
            want = made_for(row["name"], row["language"], box)
            if row["default_greeting_for"] != want:
                made += await self._make(db, row, box, want)
            else:
                await self._settled(db, row["id"], want)
        return made

    @staticmethod
    async def _settled(db: asyncpg.Connection | asyncpg.Pool, user_id: int, want: str) -> None:
        """Not due any more, unless the words changed meanwhile (a rename after the read keeps the
        mark its trigger set)."""
        await db.execute(
            "UPDATE users u SET default_greeting_due = false FROM organizations o"
            " WHERE u.id = $1 AND o.id = u.organization_id"
            "   AND u.name || '|' || u.language || '|' || u.extension || '@' || o.slug = $2",
            user_id,
            want,
        )

    async def _make(
        self, db: asyncpg.Connection | asyncpg.Pool, row: asyncpg.Record, box: Box, want: str
    ) -> int:
        """1 when made and stored, 0 when it failed (tried again later, with a growing pause)."""
        language = row["language"] if row["language"] in ("sv", "en") else "sv"
        cache = self._prompts / "voicemail"
        try:
            key = await ensure_prompt(cache, sentence(row["name"], language), language, nice=LOW_PRIORITY)
            data = await asyncio.to_thread(prompt_path(cache, key).read_bytes)
            await asyncio.to_thread(self._install, box, data, row["default_greeting_sha"], row["created_at"])
        except Exception as exc:
            log.warning("voicemail.default_greeting_failed", box=box.name, error=str(exc)[:200])
            await db.execute(
                "INSERT INTO voicemail_boxes (user_id, organization_id, default_greeting_attempts,"
                " default_greeting_next_try) SELECT id, organization_id, 1, now() + interval '10 seconds'"
                " FROM users WHERE id = $1 ON CONFLICT (user_id) DO UPDATE SET"
                " default_greeting_attempts = voicemail_boxes.default_greeting_attempts + 1,"
                " default_greeting_next_try = now() + least(interval '1 hour',"
                " interval '10 seconds' * power(2, voicemail_boxes.default_greeting_attempts))",
                row["id"],
            )
            return 0
        await db.execute(
            "INSERT INTO voicemail_boxes (user_id, organization_id, default_greeting_for,"
            " default_greeting_sha) SELECT id, organization_id, $2, $3 FROM users WHERE id = $1"
            " ON CONFLICT (user_id) DO UPDATE SET"
            " default_greeting_for = $2, default_greeting_sha = $3, default_greeting_attempts = 0,"
            " default_greeting_next_try = NULL",
            row["id"],
            want,
            digest(data),
        )
        await self._settled(db, row["id"], want)
        log.info("voicemail.default_greeting_made", box=box.name, language=language)
        return 1

    def _install(self, box: Box, data: bytes, old_sha: str | None, owner_since: datetime) -> None:
        """Write it as the unavailable and the busy greeting, unless the owner has their own there
        (a greeting older than the owner is a previous owner's, as for messages: replaced)."""
        for kind in ("unavail", "busy"):
            current = self._spool.greeting(box, kind)
            changed = self._spool.greeting_changed_at(box, kind)
            stale = changed is not None and changed < owner_since - STALE_MARGIN
            if current is None or digest(current) == old_sha or stale:
                self._spool.write_greeting(box, data, kind)


class Purges(PeriodicWorker):
    name = "voicemail_purges"

    def __init__(self, voicemail: Voicemail, *, interval_s: float = 2.0) -> None:
        super().__init__(interval_s)
        self._vm = voicemail

    async def run_once(self) -> int:
        vm = self._vm
        if vm.ami is None or not vm.ami.connected:
            return 0
        done = 0
        for row in await vm.pool.fetch(
            "SELECT id, context, mailbox, before FROM voicemail_purges WHERE next_try_at <= now()"
            " ORDER BY id LIMIT 20"
        ):
            box = Box.parse(f"{row['mailbox']}@{row['context']}")
            try:
                if box is not None:
                    await vm.remove_older(box, row["before"], played_only=False)
                    await asyncio.to_thread(vm.spool.remove_greetings, box, row["before"])
                    # a new owner of the extension gets their own default greeting written again
                    await vm.pool.execute(
                        "UPDATE voicemail_boxes b SET default_greeting_for = NULL FROM users u"
                        " JOIN organizations o ON o.id = u.organization_id"
                        " WHERE b.user_id = u.id AND o.slug = $1 AND u.extension = $2",
                        box.context,
                        box.mailbox,
                    )
                    await refresh(vm.ami, box)
            except Exception as exc:
                log.warning(
                    "voicemail.purge_failed", context=row["context"], mailbox=row["mailbox"], error=str(exc)
                )
                await vm.pool.execute(
                    "UPDATE voicemail_purges SET attempts = attempts + 1,"
                    " next_try_at = now()"
                    " + least(interval '1 hour', interval '10 seconds' * power(2, attempts))"
                    " WHERE id = $1",
                    row["id"],
                )
                continue
            await vm.pool.execute("DELETE FROM voicemail_purges WHERE id = $1", row["id"])
            log.info("voicemail.box_purged", context=row["context"], mailbox=row["mailbox"])
            done += 1
        return done


class Retention(PeriodicWorker):
    name = "voicemail_retention"

    def __init__(
        self, voicemail: Voicemail, *, clock: Clock = system_clock, interval_s: float = 3600.0
    ) -> None:
        super().__init__(interval_s)
        self._vm = voicemail
        self._clock = clock

    async def run_once(self) -> int:
        vm = self._vm
        if vm.ami is None or not vm.ami.connected:
            return 0
        removed = 0
        for owner in await repository.owners(vm.pool, with_retention=True):
            box = repository.box_of(owner)
            if box is None:
                continue
            before = self._clock() - timedelta(days=owner["retention_days"])
            n = await vm.remove_older(box, before, played_only=True)
            if n:
                log.info("voicemail.retention_removed", box=box.name, removed=n)
            removed += n
        return removed
