"""`history.added` on the live events: a call's history rows as soon as PostgreSQL has them.

The CEL trigger (pbx_control/sql/007_history.sql) sends `NOTIFY pbx_history, '<linkedid>'` when
it has projected a call into `call_history`; this worker LISTENs on a connection of its own, reads
that call's rows and publishes one event per row: {"type": "history.added", "history": <the row
as GET /users/me/history shows it>}, for the row's user (its audience is the user's devices, so
by the rule of callcontrol/visibility.py a plain user gets only their own rows; operators and
admins get the organization's). A notification missed while the connection was down is not made
up for: the history itself is complete, an app reloads it after a reconnect (`events.lost`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg

from pbx_control.ami.events import EventPublisher
from pbx_control.history.repository import rows_of_call
from pbx_control.kernel.listen import listen_forever
from pbx_control.logs import get_logger

log = get_logger("pbx_control.history.notify")

CHANNEL = "pbx_history"
MAX_QUEUED = 10_000


class HistoryEvents:
    def __init__(
        self, pool: asyncpg.Pool, publisher: EventPublisher, listen_dsn: str, *, retry_s: float = 5.0
    ) -> None:
        self._pool = pool
        self._publisher = publisher
        self._dsn = listen_dsn
        self._retry_s = retry_s
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_QUEUED)
        self._tasks: list[asyncio.Task[None]] = []
        self.published = 0

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._listen(), name="history-listen"),
            asyncio.create_task(self._publish(), name="history-publish"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        with contextlib.suppress(asyncio.QueueFull):  # far behind: the history is still complete
            self._queue.put_nowait(str(payload))

    async def _listen(self) -> None:
        await listen_forever(
            self._dsn,
            CHANNEL,
            self._notified,
            log=log,
            event="history.listen_failed",
            ping_s=self._retry_s,
            retry_s=self._retry_s,
        )

    async def _publish(self) -> None:
        while True:
            linkedid = await self._queue.get()
            try:
                async with self._pool.acquire() as conn:
                    rows = await rows_of_call(conn, linkedid)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("history.read_failed", linkedid=linkedid, error=str(exc))
                continue
            for slug, endpoints, item in rows:
                self._publisher.publish(_event(slug, endpoints, item))
                self.published += 1


def _event(slug: str, endpoints: list[str], item: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in item.items()}
    return {"type": "history.added", "organization": slug, "audience": endpoints, "history": shown}
