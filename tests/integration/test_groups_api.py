"""The answer-group API against real PostgreSQL: who may do what, bad input changes nothing, and
what app_queue will read (the realtime views) follows every change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.tenancy import number_ranges, users
from pbx_control.testing import World, api_client, bearer, login, seed_world
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.groups]
G = "/api/v1/groups"


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")


@pytest.fixture
async def world(db_pool: asyncpg.Pool) -> World:
    w = await seed_world(db_pool)
    for slug in ("alpha", "beta"):
        u = await users.create_user(
            db_pool,
            w.orgs[slug],
            "1003",
            f"{slug} other",
            f"{slug}-other",
            "correct horse battery",
            "user",
            "sv",
        )
        w.users[f"{slug}-other"] = u["id"]
    return w


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World, clock: FixedClock) -> AsyncIterator[TestClient]:
    async with api_client(db_pool, clock=clock) as c:
        yield c


async def call(client: TestClient, who: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    token = await login(client, who)
    resp = await client.request(method, path, json=body, headers=bearer(token))
    return resp.status, (await resp.json() if resp.status != 204 else None)


async def group_rows(pool: asyncpg.Pool) -> list[dict]:
    groups = [dict(r) for r in await pool.fetch("SELECT * FROM answer_groups ORDER BY id")]
    members = [
        dict(r) for r in await pool.fetch("SELECT * FROM answer_group_members ORDER BY group_id, user_id")
    ]
    return groups + members


@pytest.fixture
async def group(client: TestClient, world: World) -> dict:
    status, body = await call(
        client,
        "alpha-admin",
        "POST",
        G,
        {
            "extension": "20",
            "name": "Support",
            "strategy": "linear",
            "members": [{"user_id": world.users["alpha-user"]}, {"user_id": world.users["alpha-other"]}],
            "timezone": "Europe/Stockholm",
        },
    )
    assert status == 201, body
    return body


async def test_members_log_in_and_out_and_the_queue_view_follows(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    gid = group["id"]
    assert group["state"] == "grey" and group["members"][0]["logged_in"] is False
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/login", {})
    assert status == 200 and body["state"] == "green"
    queue = await db_pool.fetchval("SELECT queue_name FROM answer_groups WHERE id = $1", gid)
    rows = await db_pool.fetch("SELECT * FROM pbx_queue_members WHERE queue_name = $1", queue)
    assert [r["interface"] for r in rows] == [f"Local/0001-{world.users['alpha-user']}@pbx-group-member/n"]
    assert rows[0]["paused"] == 0
    assert await db_pool.fetchval("SELECT count(*) FROM pbx_queues WHERE name = $1", queue) == 1

    # an activity other than Available pauses, it does not log out
    await db_pool.execute(
        "INSERT INTO user_activities (user_id, kind) VALUES ($1, 'lunch')", world.users["alpha-user"]
    )
    row = await db_pool.fetchrow("SELECT * FROM pbx_queue_members WHERE queue_name = $1", queue)
    assert row is not None
    assert (row["paused"], row["reason_paused"]) == (1, "activity:lunch")
    await db_pool.execute("UPDATE user_activities SET until = now() - interval '1 minute'")
    row = await db_pool.fetchrow("SELECT * FROM pbx_queue_members WHERE queue_name = $1", queue)
    assert row is not None
    assert row["paused"] == 0

    # app_queue writes a pause made in Asterisk into the view: it lands on the member's row
    await db_pool.execute(
        "UPDATE pbx_queue_members SET paused = '1', reason_paused = 'coffee' WHERE uniqueid = $1",
        row["uniqueid"],
    )
    status, body = await call(client, "alpha-user", "GET", f"{G}/{gid}")
    me = body["members"][0]
    assert (me["logged_in"], me["paused"], me["pause_reason"]) == (True, True, "coffee")

    # the dialplan's fallback (control service down) rings the logged-in members directly
    fallback = await db_pool.fetchval("SELECT dial FROM pbx_dial_targets WHERE id = 'alpha-20'")
    device = await db_pool.fetchval(
        "SELECT sip_username FROM devices WHERE user_id = $1", world.users["alpha-user"]
    )
    assert fallback == f"PJSIP/{device}"

    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/logout", {})
    assert status == 200 and body["state"] == "grey"
    new_queue = await db_pool.fetchval("SELECT queue_name FROM answer_groups WHERE id = $1", gid)
    assert await db_pool.fetch("SELECT * FROM pbx_queue_members WHERE queue_name = $1", new_queue) == []


async def test_night_by_schedule_and_holiday_in_the_groups_timezone(
    client: TestClient, group: dict, fixed_clock: FixedClock
) -> None:
    at = fixed_clock.instant
    path = f"{G}/{group['id']}"
    # open for exactly the current minute of Stockholm's day
    schedule = [{"day": at.local_day, "open": at.local_time, "close": at.next_minute}]
    status, body = await call(client, "alpha-admin", "PATCH", path, {"schedule": schedule})
    assert status == 200, body
    assert (body["night"], body["state"], body["night_manual"]) == (False, "grey", False)
    fixed_clock.advance(timedelta(minutes=1))
    status, body = await call(client, "alpha-user", "GET", path)
    assert (body["night"], body["state"]) == (True, "padlock")
    # a holiday is a local date: the days before and after it are not holidays
    fixed_clock.at = at.at
    for day, night in ((-1, False), (1, False), (0, True)):
        holiday = {"date": (at.local_date + timedelta(days=day)).isoformat(), "name": "Helgdag"}
        status, body = await call(client, "alpha-admin", "PATCH", path, {"holidays": [holiday]})
        assert status == 200 and body["night"] is night, (day, body)


async def test_colleagues_with_the_right_log_others_in(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    gid, target = group["id"], world.users["alpha-other"]
    for who in ("alpha-operator", "alpha-admin"):
        status, body = await call(client, who, "POST", f"{G}/{gid}/login", {"user_id": target})
        assert status == 200, body
        await call(client, who, "POST", f"{G}/{gid}/logout", {"user_id": target})
    before = await group_rows(db_pool)
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/login", {"user_id": target})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/night", {"on": True})
    assert status == 403
    assert await group_rows(db_pool) == before

    # a group admin may
    await call(
        client,
        "alpha-admin",
        "PATCH",
        f"{G}/{gid}",
        {"members": [{"user_id": world.users["alpha-user"], "group_admin": True}, {"user_id": target}]},
    )
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/login", {"user_id": target})
    assert status == 200 and [m["logged_in"] for m in body["members"]] == [False, True]
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/night", {"on": True})
    assert status == 200 and body["state"] == "padlock"


async def test_group_admins_and_operators_change_the_call_handling_only(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    """The app's gear: distribution, no-answer destination (overflow) and the external operator
    (night destination answering_service); the rest stays the admins'."""
    gid, other = group["id"], world.users["alpha-other"]
    members = [{"user_id": world.users["alpha-user"], "group_admin": True}, {"user_id": other}]
    await call(client, "alpha-admin", "PATCH", f"{G}/{gid}", {"members": members})
    gear = {
        "strategy": "rrmemory",
        "max_wait": 45,
        "overflow": {"kind": "voicemail", "user_id": other},
        "night_destination": {"kind": "answering_service", "number": "08-123 499 99"},
    }
    status, body = await call(client, "alpha-user", "PATCH", f"{G}/{gid}", gear)
    assert status == 200, body
    assert body["strategy"] == "rrmemory" and body["max_wait"] == 45
    assert body["overflow"] == {"kind": "voicemail", "user_id": other, "group_id": None, "number": None}
    assert body["night_destination"]["number"] == "+46812349999"
    row = await db_pool.fetchrow("SELECT strategy, max_wait FROM answer_groups WHERE id = $1", gid)
    assert row is not None
    assert (row["strategy"], row["max_wait"]) == ("rrmemory", 45)
    status, body = await call(client, "alpha-operator", "PATCH", f"{G}/{gid}", {"strategy": "ringall"})
    assert status == 200 and body["strategy"] == "ringall"

    before = await group_rows(db_pool)
    # a field only admins change, even with gear fields beside it; a member who is not a group admin
    for who, change in (
        ("alpha-user", {"strategy": "linear", "name": "Mine now"}),
        ("alpha-operator", {"members": []}),
        ("alpha-other", {"strategy": "linear"}),
    ):
        status, body = await call(client, who, "PATCH", f"{G}/{gid}", change)
        assert status == 403 and body["error"]["code"] == "forbidden", (who, body)
    assert await group_rows(db_pool) == before


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    [
        ("alpha-operator", "POST", "/{gid}/login", {}, 403),  # may not answer the group itself
        ("alpha-admin", "POST", "/{gid}/login", {"user_id": "{operator}"}, 400),  # not a member
        ("alpha-user", "POST", "/9999/login", {}, 404),
        ("beta-user", "POST", "/{gid}/login", {}, 404),  # another organization's group
        ("beta-admin", "PATCH", "/{gid}", {"name": "x"}, 404),
        ("alpha-user", "PATCH", "/{gid}", {"name": "x"}, 403),  # admins only
        ("alpha-operator", "DELETE", "/{gid}", None, 403),
        (
            "alpha-admin",
            "PATCH",
            "/{gid}",
            {
                "schedule": [
                    {"day": "mon", "open": "08:00", "close": "12:00"},
                    {"day": "mon", "open": "11:00", "close": "17:00"},
                ]
            },
            400,
        ),
        (
            "alpha-admin",
            "PATCH",
            "/{gid}",
            {"schedule": [{"day": "mon", "open": "17:00", "close": "08:00"}]},
            400,
        ),
        ("alpha-admin", "PATCH", "/{gid}", {"timezone": "Mars/Olympus"}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"strategy": "loudest"}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"ring_time": 1}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"members": [{"user_id": "{beta}"}]}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"overflow": {"kind": "user", "user_id": "{beta}"}}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"overflow": {"kind": "group", "group_id": "{gid}"}}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"overflow": {"kind": "external"}}, 400),
        ("alpha-admin", "PATCH", "/{gid}", {"extension": "1001"}, 409),  # a user's extension
        ("alpha-admin", "POST", "", {"extension": "20", "name": "Twice"}, 409),
        ("alpha-admin", "PATCH", "/{gid}", {"number": "+46870000001"}, 403),  # beta's number
        ("alpha-user", "POST", "/{gid}/pause", {"paused": True, "reason": "x"}, 400),  # not logged in
    ],
)
async def test_bad_input_gets_4xx_and_changes_nothing(
    client: TestClient,
    world: World,
    group: dict,
    db_pool: asyncpg.Pool,
    who: str,
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    ids = {
        "{gid}": group["id"],
        "{operator}": world.users["alpha-operator"],
        "{beta}": world.users["beta-user"],
    }

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    for key, value in ids.items():
        path = path.replace(key, str(value))
    before = await group_rows(db_pool)
    numbers_before = await db_pool.fetch("SELECT * FROM numbers ORDER BY id")
    got, reply = await call(client, who, method, G + path, fill(body))
    assert got == status, reply
    assert set(reply) == {"error"} and reply["error"]["code"] and reply["error"]["message"]
    assert await group_rows(db_pool) == before
    assert await db_pool.fetch("SELECT * FROM numbers ORDER BY id") == numbers_before


async def test_a_group_number_and_changes_take_effect_for_the_next_call(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    gid = group["id"]
    await number_ranges.create_range(db_pool, world.orgs["alpha"], "+46855500000", "+46855500099")
    status, body = await call(
        client,
        "alpha-admin",
        "PATCH",
        f"{G}/{gid}",
        {
            "number": "08-555 000 20",
            "strategy": "rrmemory",
            "overflow": {"kind": "voicemail", "user_id": world.users["alpha-user"]},
        },
    )
    assert status == 200, body
    assert body["number"] == "+46855500020" and body["strategy"] == "rrmemory"
    queue = await db_pool.fetchrow(
        "SELECT q.* FROM pbx_queues q JOIN answer_groups g ON g.queue_name = q.name WHERE g.id = $1", gid
    )
    assert queue is not None
    assert queue["strategy"] == "rrmemory"
    # everyone in the organization sees the groups; another organization does not
    status, listed = await call(client, "alpha-operator", "GET", G)
    assert status == 200 and [g["extension"] for g in listed] == ["20"]
    status, listed = await call(client, "beta-admin", "GET", G)
    assert status == 200 and listed == []
    status, _ = await call(client, "alpha-admin", "DELETE", f"{G}/{gid}")
    assert status == 204
    assert await db_pool.fetchval("SELECT group_id FROM numbers WHERE number = '+46855500020'") is None


async def test_pause_with_a_reason_is_not_a_logout(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    gid, me = group["id"], world.users["alpha-user"]
    await call(client, "alpha-user", "POST", f"{G}/{gid}/login", {})
    status, body = await call(
        client, "alpha-user", "POST", f"{G}/{gid}/pause", {"paused": True, "reason": "fika"}
    )
    assert status == 200, body
    member = body["members"][0]
    assert (member["logged_in"], member["paused"], member["pause_reason"]) == (True, True, "fika")
    row = await db_pool.fetchrow(
        "SELECT paused, reason_paused FROM pbx_queue_members WHERE uniqueid LIKE $1", f"{gid}-{me}-%"
    )
    assert row is not None
    assert (row["paused"], row["reason_paused"]) == (1, "fika")
    status, body = await call(client, "alpha-user", "POST", f"{G}/{gid}/pause", {"paused": False})
    assert body["members"][0]["paused"] is False and body["members"][0]["logged_in"] is True
    status, body = await call(
        client, "alpha-user", "POST", f"{G}/{gid}/pause", {"paused": True, "reason": "a\nb"}
    )
    assert status == 400


async def test_login_changes_the_generation_once_per_change_also_when_concurrent(
    client: TestClient, world: World, group: dict, db_pool: asyncpg.Pool
) -> None:
    """An in-order group's queue generation goes up once per real change (a login that changes
    nothing leaves it), also when several logins to the group run at once (one statement each,
    under the group's row lock); who may log whom in is unchanged."""
    gid = group["id"]
    user, other = world.users["alpha-user"], world.users["alpha-other"]
    tokens = {who: await login(client, who) for who in ("alpha-admin", "alpha-user", "alpha-other")}

    async def generation() -> int:
        return int(await db_pool.fetchval("SELECT generation FROM answer_groups WHERE id = $1", gid))

    async def post(who: str, verb: str, body: dict[str, Any]) -> tuple[int, Any]:
        resp = await client.post(f"{G}/{gid}/{verb}", json=body, headers=bearer(tokens[who]))
        return resp.status, await resp.json()

    async def logged_in() -> list[bool]:
        rows = await db_pool.fetch(
            "SELECT logged_in FROM answer_group_members WHERE group_id = $1 ORDER BY user_id", gid
        )
        return [r["logged_in"] for r in rows]

    first = await generation()
    assert (await post("alpha-user", "login", {}))[0] == 200
    assert await generation() == first + 1
    assert (await post("alpha-user", "login", {}))[0] == 200  # nothing changes: no new generation
    assert await generation() == first + 1
    assert (await post("alpha-user", "logout", {}))[0] == 200
    assert await generation() == first + 2

    # at once, each member logged in twice (by themselves and by the admin): two real changes
    for verb, state in (("login", True), ("logout", False)):
        before = await generation()
        results = await asyncio.gather(
            post("alpha-user", verb, {}),
            post("alpha-other", verb, {}),
            post("alpha-admin", verb, {"user_id": user}),
            post("alpha-admin", verb, {"user_id": other}),
        )
        assert [status for status, _ in results] == [200] * 4
        assert await logged_in() == [state, state]
        assert await generation() == before + 2

    # who may: a colleague only by a manager; another organization's group is a 404; members only
    rows_before = await group_rows(db_pool)
    status, body = await post("alpha-other", "login", {"user_id": user})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert (await call(client, "beta-admin", "POST", f"{G}/{gid}/login", {}))[0] == 404
    assert (await post("alpha-admin", "login", {}))[0] == 403  # the admin is no member
    status, body = await post("alpha-admin", "login", {"user_id": world.users["beta-user"]})
    assert status == 400 and "may not answer" in body["error"]["message"]
    assert await group_rows(db_pool) == rows_before
