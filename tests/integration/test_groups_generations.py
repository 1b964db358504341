"""Answer groups' queue generations (issue 13 item 8): every generation a group leaves stays
readable by app_queue (the realtime views) while a caller may still wait in it, however many
changes come in between; afterwards it is gone."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.groups.admin import save_group
from pbx_control.tenancy import organizations

pytestmark = [pytest.mark.integration, pytest.mark.groups]


async def names(pool: asyncpg.Pool) -> set[str]:
    return {r["name"] for r in await pool.fetch("SELECT name FROM pbx_queues WHERE name <> ''")}


async def test_every_recent_generation_stays_readable_and_old_ones_go(db_pool: asyncpg.Pool) -> None:
    org = await organizations.create_organization(db_pool, "acme", "Acme", "+46812345600")
    gid = await save_group(
        db_pool, org["id"], None, {"extension": "20", "name": "Support", "strategy": "linear", "max_wait": 60}
    )
    first = await db_pool.fetchval("SELECT generation FROM answer_groups WHERE id = $1", gid)
    for _ in range(3):  # three logins / logouts while a caller waits in the first generation
        await db_pool.execute("UPDATE answer_groups SET generation = generation + 1 WHERE id = $1", gid)
    seen = await names(db_pool)
    assert {f"g{gid}v{n}" for n in range(first, first + 4)} <= seen
    # looked up by name as app_queue does, with its members' rows
    row = await db_pool.fetchrow(
        "SELECT strategy, timeout FROM pbx_queues WHERE name = $1", f"g{gid}v{first}"
    )
    assert row is not None and row["strategy"] == "linear"
    # past max_wait + ring time + a minute nobody can be waiting there any more
    await db_pool.execute(
        "UPDATE answer_group_generations SET retired_at = now() - interval '141 seconds'"
        " WHERE queue_name = $1",
        f"g{gid}v{first}",
    )
    assert await names(db_pool) == seen - {f"g{gid}v{first}"}
