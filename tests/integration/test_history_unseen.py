"""The unseen-missed count each history page carries is kept per user by statement triggers
(sql/031_history_unseen.sql): after every kind of write it equals counting the rows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from pbx_control.history.repository import purge, unseen_missed
from pbx_control.kernel.db import Conn
from pbx_control.testing import World
from tests.integration.test_history_queries import T0, _rows

pytestmark = [pytest.mark.integration, pytest.mark.history]


async def _counted(conn: Conn) -> dict[int, int]:
    rows = await conn.fetch(
        "SELECT user_id, count(*) AS n FROM call_history WHERE missed AND NOT seen GROUP BY user_id"
    )
    return {r["user_id"]: r["n"] for r in rows}


async def _kept(conn: Conn) -> dict[int, int]:
    rows = await conn.fetch("SELECT user_id, n FROM history_unseen WHERE n > 0")
    return {r["user_id"]: r["n"] for r in rows}


async def test_the_kept_count_follows_every_write(db_pool: asyncpg.Pool, world: World) -> None:
    alice, bob = world.users["alpha-user"], world.users["alpha-operator"]
    org = world.orgs["alpha"]
    async with db_pool.acquire() as conn:
        await _rows(conn, alice, org, 90)  # every third missed and unseen: 30
        await _rows(conn, bob, org, 30)  # 10
        assert await _kept(conn) == await _counted(conn) == {alice: 30, bob: 10}
        assert await unseen_missed(conn, alice) == 30

        # both users' rows in one statement marked seen
        await conn.execute(
            "UPDATE call_history SET seen = true WHERE id IN (SELECT id FROM call_history"
            " WHERE missed AND NOT seen ORDER BY id LIMIT 5) OR (user_id = $1 AND missed AND NOT seen"
            " AND started_at > $2)",
            bob,
            T0 + timedelta(minutes=20),
        )
        assert await _kept(conn) == await _counted(conn)
        # the projection's upsert: a row seen again stays seen; a new unseen row counts
        await conn.execute(
            "INSERT INTO call_history (organization_id, user_id, linkedid, direction, result, missed,"
            " voicemail, started_at, seen) VALUES"
            " ($1, $2, 'g' || $2::bigint || '-3', 'in', 'missed', true, false, $3, false),"
            " ($1, $2, 'new-1', 'in', 'missed', true, false, $3, false)"
            " ON CONFLICT (linkedid, user_id, direction)"
            " DO UPDATE SET seen = call_history.seen OR EXCLUDED.seen",
            org,
            alice,
            T0,
        )
        assert await _kept(conn) == await _counted(conn)
        # the retention purge (many users, in batches)
        assert await purge(conn, T0 + timedelta(days=30, minutes=45), 30, batch=7) > 0
        assert await _kept(conn) == await _counted(conn)
        # a user deleted: their counter goes with them, nothing fails
        await conn.execute("DELETE FROM users WHERE id = $1", bob)
        assert await _kept(conn) == await _counted(conn)
        assert bob not in await _kept(conn)
        assert await unseen_missed(conn, bob) == 0


async def test_concurrent_writers_for_the_same_users_neither_deadlock_nor_drift(
    db_pool: asyncpg.Pool, world: World
) -> None:
    """Statements writing rows of the same two users, listed in opposite orders, take the users'
    counters in user order: every one of them commits (each product write is one statement: the
    projection of a call, a seen mark, a purge batch)."""
    a, b = world.users["alpha-user"], world.users["alpha-operator"]
    org = world.orgs["alpha"]

    async def writer(first: int, second: int, k: int) -> None:
        async with db_pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO call_history (organization_id, user_id, linkedid, direction, result, missed,"
                " voicemail, started_at, seen) VALUES ($1, $2, $4, 'in', 'missed', true, false, $5, false),"
                " ($1, $3, $4, 'in', 'missed', true, false, $5, false)",
                org,
                first,
                second,
                f"c-{k}",
                datetime(2026, 11, 3, tzinfo=UTC),
            )
            await asyncio.sleep(0.02)  # hold the counters' locks a while

    await asyncio.gather(*(writer(a, b, k) if k % 2 else writer(b, a, k) for k in range(20)))
    async with db_pool.acquire() as conn:
        assert await _kept(conn) == await _counted(conn) == {a: 20, b: 20}
