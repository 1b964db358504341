"""The call history on PostgreSQL: channel events projected by the trigger, the API's paging,
filters, seen, the admin view and its authorization, the query plan on 100,000 rows, the purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.history import cursor as cursors
from pbx_control.history.repository import Filter, purge, user_query
from pbx_control.kernel.db import Conn
from pbx_control.tenancy import devices
from pbx_control.testing import World, bearer, login
from tests.unit.test_history_outcome import TABLE

pytestmark = [pytest.mark.integration, pytest.mark.history]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


async def test_the_sql_outcome_is_the_python_table(db_pool: asyncpg.Pool) -> None:
    async with db_pool.acquire() as conn:
        for direction, mine, other, vm, for_me, result, missed in TABLE:
            got = await conn.fetchrow(
                "SELECT r, pbx_history_missed($1, r) AS missed"
                " FROM pbx_history_outcome($1, $2, $3, $4, $5) r",
                direction,
                mine,
                other,
                vm,
                for_me,
            )
            assert got is not None
            assert (got["r"], got["missed"]) == (result, missed), (direction, mine, other, vm, for_me)


async def _cel(conn: Conn, *rows: tuple[str, float, str, str, str, str]) -> None:
    """(eventtype, seconds after T0, channel, uniqueid, exten or appdata, cid_num); linkedid 'L1'."""
    for event, at, chan, uid, data, cid in rows:
        await conn.execute(
            """INSERT INTO cel (eventtype, eventtime, channame, uniqueid, linkedid, exten, appname, appdata,
                                cid_num, cid_name, extra)
               VALUES ($1, $2, $3, $4, 'L1', $5, $6, $7, $8, 'Op', $9)""",
            event,
            (T0 + timedelta(seconds=at)).replace(tzinfo=None),
            chan,
            uid,
            data if event == "CHAN_START" else "",
            "VoiceMail" if event == "APP_START" else "",
            data if event == "APP_START" else "",
            cid,
            '{"hangupcause":16}' if event == "HANGUP" else "",
        )


async def test_a_call_s_events_become_one_row_per_user(db_pool: asyncpg.Pool, world: World) -> None:
    async with db_pool.acquire() as conn:
        op_dev, _ = await devices.create_device(
            conn, world.orgs["alpha"], world.users["alpha-operator"], "desk"
        )
        caller = f"PJSIP/{op_dev['sip_username']}-00000001"
        user_sip = await conn.fetchval(
            "SELECT sip_username FROM devices WHERE id = $1", world.devices["alpha-user"]
        )
        callee = f"PJSIP/{user_sip}-00000002"
        await _cel(
            conn,
            ("CHAN_START", 0, caller, "L1", "1001", "1002"),
            ("CHAN_START", 0.1, callee, "U2", "s", "1001"),
            ("ANSWER", 3, callee, "U2", "", "1001"),
            ("ANSWER", 3, caller, "L1", "", "1002"),
            ("HANGUP", 13, caller, "L1", "", "1002"),
            ("HANGUP", 13, callee, "U2", "", "1001"),
        )
        assert await conn.fetchval("SELECT count(*) FROM call_history") == 0  # only at the call's end
        await _cel(conn, ("LINKEDID_END", 13, callee, "U2", "", "1001"))
        rows = {
            r["direction"]: r
            for r in await conn.fetch("SELECT * FROM call_history WHERE linkedid = 'L1' ORDER BY direction")
        }
        assert rows["out"]["user_id"] == world.users["alpha-operator"]
        assert rows["out"]["result"] == "answered" and rows["out"]["peer_number"] == "1001"
        assert rows["out"]["duration_s"] == 10 and rows["out"]["started_at"] == T0
        assert rows["in"]["user_id"] == world.users["alpha-user"] and rows["in"]["result"] == "answered"
        assert rows["in"]["device_id"] == world.devices["alpha-user"] and rows["in"]["peer_number"] == "1002"
        assert rows["in"]["hangup_cause"] == 16
        # projecting again changes nothing (and keeps what the user marked)
        assert await conn.fetchval("SELECT pbx_history_project('L1')") == 2
        assert await conn.fetchval("SELECT count(*) FROM call_history") == 2


async def test_a_call_into_voicemail_is_missed_and_voicemail(db_pool: asyncpg.Pool, world: World) -> None:
    async with db_pool.acquire() as conn:
        op_dev, _ = await devices.create_device(
            conn, world.orgs["alpha"], world.users["alpha-operator"], "desk"
        )
        caller = f"PJSIP/{op_dev['sip_username']}-0000000a"
        await _cel(
            conn,
            ("CHAN_START", 0, caller, "L1", "1001", "1002"),
            ("ANSWER", 1, caller, "L1", "", "1002"),
            ("APP_START", 1, caller, "L1", "1001@alpha,u", "1002"),
            ("HANGUP", 9, caller, "L1", "", "1002"),
            ("LINKEDID_END", 9, caller, "L1", "", "1002"),
        )
        row = await conn.fetchrow("SELECT * FROM call_history WHERE user_id = $1", world.users["alpha-user"])
        assert row is not None
        assert (row["result"], row["missed"], row["voicemail"], row["seen"]) == (
            "voicemail",
            True,
            True,
            False,
        )
        assert row["duration_s"] == 8 and row["device_id"] is None
        out = await conn.fetchrow(
            "SELECT * FROM call_history WHERE user_id = $1", world.users["alpha-operator"]
        )
        assert out is not None
        assert (out["direction"], out["result"], out["missed"]) == ("out", "voicemail", False)


async def _rows(conn: Conn, user_id: int, org_id: int, n: int, start: int = 0) -> None:
    """n rows for one user, one minute apart from T0, every third missed, every sixth voicemail."""
    await conn.execute(
        """INSERT INTO call_history (organization_id, user_id, linkedid, direction, result, missed, voicemail,
                                     started_at, peer_number, seen)
           SELECT $2, $1::bigint, 'g' || $1::bigint || '-' || i, 'in',
                  CASE WHEN i % 6 = 0 THEN 'voicemail' WHEN i % 3 = 0 THEN 'missed' ELSE 'answered' END,
                  i % 3 = 0, i % 6 = 0, $3::timestamptz + i * interval '1 minute', '1002', i % 3 <> 0
             FROM generate_series($4::int, $4::int + $5::int - 1) i""",
        user_id,
        org_id,
        T0,
        start,
        n,
    )


async def test_paging_filters_and_seen(client: TestClient, db_pool: asyncpg.Pool, world: World) -> None:
    uid = world.users["alpha-user"]
    async with db_pool.acquire() as conn:
        await _rows(conn, uid, world.orgs["alpha"], 120)
    auth = bearer(await login(client, "alpha-user"))
    seen_ids: list[int] = []
    cursor = None
    pages = 0
    while True:
        q = "?limit=50" + (f"&cursor={cursor}" if cursor else "")
        resp = await client.get(f"/api/v1/users/me/history{q}", headers=auth)
        assert resp.status == 200
        page = await resp.json()
        seen_ids += [i["id"] for i in page["items"]]
        starts = [i["started_at"] for i in page["items"]]
        assert starts == sorted(starts, reverse=True)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen_ids) == 120 == len(set(seen_ids))
    assert page["unseen_missed"] == 40
    first = (await (await client.get("/api/v1/users/me/history?limit=1", headers=auth)).json())["items"][0]
    assert first["started_at"].startswith("2026-11-02T10:59") and first["peer_name"] == "alpha operator"

    missed = await (await client.get("/api/v1/users/me/history?filter=missed&limit=200", headers=auth)).json()
    assert len(missed["items"]) == 40 and all(i["missed"] for i in missed["items"])
    vm = await (await client.get("/api/v1/users/me/history?filter=voicemail&limit=200", headers=auth)).json()
    assert len(vm["items"]) == 20 and all(i["result"] == "voicemail" for i in vm["items"])

    for bad in ("filter=nope", "limit=0", "limit=201", "cursor=garbage", "cursor=" + "A" * 300):
        resp = await client.get(f"/api/v1/users/me/history?{bad}", headers=auth)
        assert resp.status == 400, bad

    one = missed["items"][0]["id"]
    resp = await client.post(f"/api/v1/users/me/history/{one}/seen", headers=auth)
    assert (await resp.json()) == {"marked": 1, "unseen_missed": 39}
    middle = missed["items"][20]["id"]
    resp = await client.post("/api/v1/users/me/history/seen", headers=auth, json={"up_to": middle})
    assert (await resp.json()) == {"marked": 20, "unseen_missed": 19}
    # another user's row is not mine: 404, and nothing changes
    other = bearer(await login(client, "alpha-operator"))
    assert (await client.post(f"/api/v1/users/me/history/{one}/seen", headers=other)).status == 404
    assert (
        await client.post("/api/v1/users/me/history/seen", headers=other, json={"up_to": one})
    ).status == 404
    assert (await client.post("/api/v1/users/me/history/seen", headers=auth, json={"up_to": 0})).status == 400


async def test_admins_read_their_organization_only(
    client: TestClient, db_pool: asyncpg.Pool, world: World
) -> None:
    async with db_pool.acquire() as conn:
        await _rows(conn, world.users["alpha-user"], world.orgs["alpha"], 5)
        await _rows(conn, world.users["beta-user"], world.orgs["beta"], 7)
    alpha = bearer(await login(client, "alpha-admin"))
    page = await (
        await client.get(f"/api/v1/history?user_id={world.users['alpha-user']}", headers=alpha)
    ).json()
    assert len(page["items"]) == 5 and {i["user_id"] for i in page["items"]} == {world.users["alpha-user"]}
    everyone = await (await client.get("/api/v1/history", headers=alpha)).json()
    assert len(everyone["items"]) == 5
    resp = await client.get(f"/api/v1/history?user_id={world.users['beta-user']}", headers=alpha)
    assert resp.status == 404
    assert (await client.get("/api/v1/history?user_id=abc", headers=alpha)).status == 400
    user = bearer(await login(client, "alpha-user"))
    assert (await client.get("/api/v1/history", headers=user)).status == 403
    beta_row = await db_pool.fetchval(
        "SELECT id FROM call_history WHERE user_id = $1 LIMIT 1", world.users["beta-user"]
    )
    assert (await client.post(f"/api/v1/users/me/history/{beta_row}/seen", headers=user)).status == 404


async def test_the_history_query_of_a_user_with_100000_rows_is_on_an_index(
    db_pool: asyncpg.Pool, world: World
) -> None:
    uid = world.users["alpha-user"]
    async with db_pool.acquire() as conn:
        await _rows(conn, uid, world.orgs["alpha"], 100_000)
        await _rows(conn, world.users["alpha-operator"], world.orgs["alpha"], 20_000)
        await conn.execute("ANALYZE call_history")
        at, row_id = cursors.decode(cursors.encode(T0 + timedelta(days=30), 2**40))
        indexes: tuple[tuple[Filter, str], ...] = (
            ("all", "call_history_user"),
            ("missed", "call_history_user_missed"),
            ("voicemail", "call_history_user_voicemail"),
        )
        for filter_, index in indexes:
            plan = "\n".join(
                r[0] for r in await conn.fetch(f"EXPLAIN {user_query(filter_, True)}", uid, 51, at, row_id)
            )
            assert f"Index Scan using {index} on call_history" in plan, plan
            assert "Seq Scan on call_history" not in plan and "Sort" not in plan, plan
            first = await conn.fetch(user_query(filter_, False), uid, 51)
            assert len(first) == 51


async def test_the_purge_deletes_what_is_older_than_the_retention(
    db_pool: asyncpg.Pool, world: World
) -> None:
    async with db_pool.acquire() as conn:
        await _rows(conn, world.users["alpha-user"], world.orgs["alpha"], 10)  # T0 .. T0 + 9 min
        await conn.execute(
            "INSERT INTO cel (eventtype, eventtime, linkedid)"
            " VALUES ('CHAN_START', $1, 'old'), ('CHAN_START', $2, 'new')",
            (T0 - timedelta(days=40)).replace(tzinfo=None),
            (T0 + timedelta(minutes=10)).replace(tzinfo=None),
        )
    now = T0 + timedelta(days=30, minutes=5)
    # rows 0..4 (before T0 + 5 min) and the old event
    assert await purge(db_pool, now, 30, batch=2) == 5 + 1
    assert await db_pool.fetchval("SELECT count(*) FROM call_history") == 5
    assert await db_pool.fetchval("SELECT array_agg(linkedid) FROM cel") == ["new"]
