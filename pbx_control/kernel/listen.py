"""One PostgreSQL LISTEN that survives the database going away: a connection of its own (never
a pool's, so a NOTIFY is never lost to a borrowed connection's reuse), reconnected after a pause
that doubles up to `retry_max_s`. A lost connection is noticed both ways: asyncpg's termination
callback, and a `SELECT 1` every `ping_s` (a half-open socket tells nothing by itself)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

Notified = Callable[[Any, int, str, Any], None]  # asyncpg's (connection, pid, channel, payload)


async def listen_forever(
    dsn: str,
    channel: str,
    notified: Notified,
    *,
    log: Any,
    event: str,
    ping_s: float,
    retry_s: float,
    retry_max_s: float | None = None,
    on_connected: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """LISTEN on `channel` until cancelled; `on_connected` runs after each (re)connection (for what
    changed while nobody listened). Each failure is logged as `event`, with the pause before the
    next try (retry_s, doubling up to retry_max_s; without it, always retry_s)."""
    delay = retry_s
    while True:
        conn: asyncpg.Connection | None = None
        closed = asyncio.Event()
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            await conn.add_listener(channel, notified)
            conn.add_termination_listener(lambda _c, lost=closed: lost.set())
            delay = retry_s
            if on_connected is not None:
                await on_connected()
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(ping_s):
                        await closed.wait()
                if not closed.is_set():
                    await conn.execute("SELECT 1", timeout=5)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning(event, error=type(exc).__name__, detail=str(exc)[:200], retry_in_s=delay)
        finally:
            if conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
        await asyncio.sleep(delay)
        if retry_max_s is not None:
            delay = min(retry_max_s, delay * 2)
