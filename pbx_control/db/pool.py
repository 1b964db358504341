"""The process's asyncpg pool."""

from __future__ import annotations

import asyncpg


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=5,
        # Prepared statements are cached per connection; routing queries are few and hot.
        statement_cache_size=256,
    )
    assert pool is not None
    return pool
