"""The process's asyncpg pools: one for the API (and background work), one for FastAGI.

A pool's acquire gives up after `acquire_timeout_s` (when set) and turns every way of not getting a
connection (none free in time, connection refused, the server shutting down, the database gone)
into DatabaseUnavailable, which the API answers with 503 at once instead of a 500 or a hang.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolAcquireContext, PoolConnectionProxy

from pbx_control.kernel.db import CONNECTION_ERRORS
from pbx_control.kernel.errors import Unavailable

# The API's pool: a request that gets no connection within this is answered 503 at once, so a
# stopped, silent or saturated database gives an answer within a second.
API_ACQUIRE_TIMEOUT_S = 0.5

_ACQUIRE_ERRORS: tuple[type[Exception], ...] = (OSError, *CONNECTION_ERRORS)


class DatabaseUnavailable(Unavailable):
    def __init__(self, message: str = "the database is not available; try again shortly") -> None:
        super().__init__(message, code="database_unavailable")


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise DatabaseUnavailable("no database connection free in time; try again shortly") from exc
    except _ACQUIRE_ERRORS as exc:
        raise DatabaseUnavailable() from exc


class _Acquire(PoolAcquireContext):
    __slots__ = ()

    async def __aenter__(self) -> PoolConnectionProxy:
        with _unavailable():
            return await super().__aenter__()

    def __await__(self) -> Generator[Any, None, PoolConnectionProxy]:
        with _unavailable():
            return (yield from super().__await__())


class BoundedPool(asyncpg.Pool):
    """asyncpg.Pool whose acquire (also inside pool.fetch, pool.execute...) is bounded by
    `acquire_timeout_s` (None: unbounded) and raises DatabaseUnavailable when it fails."""

    __slots__ = ("acquire_timeout_s",)

    def __init__(self, *args: Any, acquire_timeout_s: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout_s = acquire_timeout_s

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        return _Acquire(self, self.acquire_timeout_s if timeout is None else timeout)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (RESET ALL, UNLISTEN *, unlock advisory locks...): one
    round trip saved on every query, the routing decision's included. asyncpg still rolls back an
    open transaction and drops listeners first. Our code keeps no session state on pool
    connections: LISTEN has a connection of its own and the migration lock is released in finally."""


async def create_pool(
    database_url: str, *, min_size: int = 2, max_size: int = 10, acquire_timeout_s: float | None = None
) -> BoundedPool:
    # asyncpg.create_pool's own defaults, spelled out: it cannot make a subclass.
    pool = BoundedPool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        max_queries=50_000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=asyncpg.Connection,
        record_class=asyncpg.Record,
        reset=_keep_session,
        acquire_timeout_s=acquire_timeout_s,
        command_timeout=5,
        # Prepared statements are cached per connection; routing queries are few and hot.
        statement_cache_size=256,
    )
    await pool
    return pool
