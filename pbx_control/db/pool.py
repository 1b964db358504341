"""The process's asyncpg pool."""

from __future__ import annotations

import asyncpg


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without asyncpg's reset query (RESET ALL, UNLISTEN *, unlock advisory locks...): one
    round trip saved on every query, the routing decision's included. asyncpg still rolls back an
    open transaction and drops listeners first. Our code keeps no session state on pool
    connections: LISTEN has a connection of its own and the migration lock is released in finally."""


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=5,
        # Prepared statements are cached per connection; routing queries are few and hot.
        statement_cache_size=256,
        reset=_keep_session,
    )
    assert pool is not None
    return pool
