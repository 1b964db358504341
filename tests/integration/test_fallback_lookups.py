"""What the dialplan's inbound fallback reads to keep blocked callers out (pbx_did_callees,
pbx_blocked_callers): the right rows, each found through an index (the fallback carries every
call from the carrier while the control service is down)."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.testing import World

pytestmark = [pytest.mark.integration, pytest.mark.reachability, pytest.mark.security]


async def test_a_numbers_callee_and_their_blocked_callers(db_pool: asyncpg.Pool, world: World) -> None:
    anna, bo = world.users["alpha-user"], world.users["beta-user"]
    await db_pool.execute("UPDATE users SET block_anonymous = true WHERE id = $1", anna)
    rows = [(anna, "+46701112233", "blocked"), (anna, "+46709990000", "vip"), (bo, "+46701112244", "blocked")]
    await db_pool.executemany("INSERT INTO caller_lists (user_id, number, kind) VALUES ($1, $2, $3)", rows)

    callee = await db_pool.fetchrow("SELECT * FROM pbx_did_callees WHERE id = '+46870000000'")
    assert callee is not None
    assert dict(callee) == {"id": "+46870000000", "user_id": str(anna), "block_anonymous": "1"}
    other = await db_pool.fetchrow("SELECT * FROM pbx_did_callees WHERE id = '+46870000001'")
    assert other is not None
    assert other["user_id"] == str(bo) and other["block_anonymous"] == "0"

    async def blocked(user: int, number: str) -> str | None:
        return await db_pool.fetchval(
            "SELECT kind FROM pbx_blocked_callers WHERE id = $1", f"{user}/{number}"
        )

    assert await blocked(anna, "+46701112233") == "blocked"
    assert await blocked(anna, "+46709990000") is None  # a VIP is not blocked
    assert await blocked(anna, "+46701112244") is None  # Bo's block is Bo's
    assert await blocked(bo, "+46701112244") == "blocked"


async def test_both_lookups_use_an_index(db_pool: asyncpg.Pool, world: World) -> None:
    async with db_pool.acquire() as conn:
        await conn.execute("SET enable_seqscan = off")
        for query, index in (
            ("SELECT * FROM pbx_did_callees WHERE id = '+46870000000'", "numbers_number_key"),
            ("SELECT * FROM pbx_blocked_callers WHERE id = '1/+46701112233'", "caller_lists_blocked_key"),
        ):
            plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {query}"))
            assert index in plan, plan
        await conn.execute("RESET enable_seqscan")
