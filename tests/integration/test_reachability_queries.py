"""The routing path reads by index only: with thousands of users, devices, numbers and caller-list
rows, the plans of the queries a call runs touch no big table by a sequential scan."""

from __future__ import annotations

import re

import asyncpg
import pytest

from pbx_control.routing import repository as q

pytestmark = [pytest.mark.integration, pytest.mark.reachability]

BIG = ("users", "devices", "numbers", "caller_lists", "user_activities", "user_settings", "organizations")


async def _seed(db: asyncpg.Pool) -> None:
    await db.execute("INSERT INTO trunks (name, host, match) VALUES ('carrier', '127.0.0.2', '127.0.0.2')")
    await db.execute(
        "INSERT INTO organizations (slug, name, main_number)"
        " SELECT 'org' || g, 'Org ' || g, '+468100' || lpad(g::text, 5, '0') FROM generate_series(1, 1000) g"
    )
    await db.execute(
        "INSERT INTO users (organization_id, extension, name, username, password_hash, role)"
        " SELECT o.id, (1000 + g)::text, 'User ' || g, o.slug || '-' || g, 'x', 'user'"
        "   FROM organizations o, generate_series(1, 5) g"
    )
    await db.execute(
        "INSERT INTO devices (user_id, organization_id, kind, sip_username, sip_md5_cred)"
        " SELECT u.id, u.organization_id, 'desk', 'dev' || u.id, md5(u.id::text) FROM users u"
    )
    await db.execute(
        "INSERT INTO numbers (number, organization_id, user_id)"
        " SELECT '+4682' || lpad(u.id::text, 7, '0'), u.organization_id, u.id FROM users u"
    )
    await db.execute(
        "INSERT INTO caller_lists (user_id, number, kind)"
        " SELECT u.id, '+4670' || lpad((u.id * 7 + g)::text, 7, '0'),"
        "        CASE WHEN g % 2 = 0 THEN 'vip' ELSE 'blocked' END"
        "   FROM users u, generate_series(1, 4) g"
    )
    await db.execute(
        "INSERT INTO user_activities (user_id, kind, until)"
        " SELECT u.id, 'meeting', now() + interval '1 hour' FROM users u WHERE u.id % 3 = 0"
    )
    await db.execute("INSERT INTO user_settings (user_id, closed) SELECT u.id, u.id % 5 = 0 FROM users u")
    await db.execute("ANALYZE")


async def _plan(db: asyncpg.Pool, sql: str, *args: object) -> str:
    rows = await db.fetch(f"EXPLAIN {sql}", *args)
    return "\n".join(r[0] for r in rows)


def _seq_scans(plan: str) -> set[str]:
    return {t for t in re.findall(r"Seq Scan on (\w+)", plan) if t in BIG}


async def test_the_queries_of_a_call_use_indexes(db_pool: asyncpg.Pool) -> None:
    await _seed(db_pool)
    cases: list[tuple[str, *tuple[object, ...]]] = [  # the query, then its arguments
        (q._CALLEE_FROM_ENDPOINT, "org7", "1004", "dev123"),
        (q._CALLEE_BY_EXTENSION, "org7", "1004", ["+46701234567"]),
        (q._BY_NUMBER, "+46820000123", ["+46701234567"]),
        (q._CALLER_BY_ENDPOINT, "dev123", "org2"),
        (q._OPERATOR_DEVICES, "org7"),
    ]
    for sql, *args in cases:
        plan = await _plan(db_pool, sql, *args)
        assert _seq_scans(plan) == set(), plan
