"""GET /presence: colleagues' activity (an expired one is available), note, and call state from the
live CallModel fed with AMI events; unknown without AMI; only the asker's organization."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.ami.calls import CallModel
from pbx_control.testing import World, api_client, bearer, composed_app, login, seed_world
from tests.support.clock import FixedClock
from tests.support.directory import call

pytestmark = [pytest.mark.integration, pytest.mark.directory]


@pytest.fixture
async def world(db_pool: asyncpg.Pool, clock: FixedClock) -> World:
    world = await seed_world(db_pool)
    now = clock()
    admin, operator, user = (world.users[f"alpha-{r}"] for r in ("admin", "operator", "user"))
    async with db_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO user_activities (user_id, kind, until, note)"
            " VALUES ($1, 'meeting', $2, 'Styrelsemöte')",
            admin,
            now + timedelta(hours=1),
        )
        await conn.execute(
            "INSERT INTO user_activities (user_id, kind, until, note) VALUES ($1, 'lunch', $2, 'åter snart')",
            operator,
            now - timedelta(minutes=1),
        )
        custom = await conn.fetchval(
            "INSERT INTO custom_activities (user_id, label, spoken_text)"
            " VALUES ($1, 'Kundbesök', 'är hos kund')"
            " RETURNING id",
            user,
        )
        await conn.execute(
            "INSERT INTO user_activities (user_id, kind, custom_activity_id) VALUES ($1, 'custom', $2)",
            user,
            custom,
        )
    return world


def _newchannel(channel: str, uniqueid: str, state: str) -> dict[str, str]:
    return {
        "Event": "Newchannel",
        "Channel": channel,
        "ChannelStateDesc": state,
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
        "AccountCode": "alpha",
    }


@pytest.fixture
def calls() -> CallModel:
    return CallModel()


@pytest.fixture
async def client(
    db_pool: asyncpg.Pool, world: World, calls: CallModel, clock: FixedClock
) -> AsyncIterator[TestClient]:
    app = composed_app(db_pool, calls=calls, clock=clock)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield client
    await client.close()


async def test_presence_activities_and_calls(
    client: TestClient, world: World, calls: CallModel, db_pool: asyncpg.Pool, clock: FixedClock
) -> None:
    h = bearer(await login(client, "alpha-user"))
    status, listed = await call(client, "GET", "/presence", h)
    assert status == 200, listed
    by_name = {p["name"]: p for p in listed}
    assert [p["name"] for p in listed] == ["alpha admin", "alpha operator", "alpha user"]
    admin = by_name["alpha admin"]
    assert (admin["activity"], admin["note"], admin["label"]) == ("meeting", "Styrelsemöte", None)
    assert datetime.fromisoformat(admin["until"]) == clock() + timedelta(hours=1)
    operator = by_name["alpha operator"]  # lunch ended a minute ago
    assert (operator["activity"], operator["until"]) == ("available", None)
    user = by_name["alpha user"]
    assert (user["activity"], user["label"], user["until"]) == ("custom", "Kundbesök", None)
    assert {(p["call"], p["on_call"]) for p in listed} == {("idle", False)}

    sip = await db_pool.fetchval(
        "SELECT sip_username FROM devices WHERE id = $1", world.devices["alpha-user"]
    )
    calls.apply(_newchannel(f"PJSIP/{sip}-00000001", "1.1", "Ringing"))
    _, listed = await call(client, "GET", "/presence", h)
    assert {p["name"]: p["call"] for p in listed}["alpha user"] == "ringing"
    calls.apply(
        {"Event": "Newstate", "Channel": f"PJSIP/{sip}-00000001", "ChannelStateDesc": "Up", "Uniqueid": "1.1"}
    )
    _, listed = await call(client, "GET", "/presence", h)
    mine = {p["name"]: p for p in listed}["alpha user"]
    assert (mine["call"], mine["on_call"]) == ("on_call", True)
    calls.apply({"Event": "Hangup", "Channel": f"PJSIP/{sip}-00000001", "Uniqueid": "1.1"})
    _, listed = await call(client, "GET", "/presence", h)
    assert {p["name"]: p["call"] for p in listed}["alpha user"] == "idle"

    # Only some users; another organization's ids are simply not there.
    ids = f"{world.users['alpha-admin']},{world.users['beta-user']}"
    _, some = await call(client, "GET", "/presence", h, params={"user_id": ids})
    assert [p["name"] for p in some] == ["alpha admin"]


async def test_presence_without_ami_is_unknown(
    db_pool: asyncpg.Pool, world: World, clock: FixedClock
) -> None:
    async with api_client(db_pool, clock=clock) as client:
        _, listed = await call(client, "GET", "/presence", bearer(await login(client, "beta-user")))
    assert [p["name"] for p in listed] == ["beta admin", "beta operator", "beta user"]
    assert {(p["call"], p["on_call"], p["activity"]) for p in listed} == {("unknown", None, "available")}


@pytest.mark.parametrize(
    "params", [{"user_id": "x"}, {"user_id": "0"}, {"user_id": "1,-2"}, {"user_id": "9" * 30}]
)
async def test_bad_presence_filter_is_400(client: TestClient, params: dict[str, str]) -> None:
    status, err = await call(
        client, "GET", "/presence", bearer(await login(client, "alpha-user")), params=params
    )
    assert status == 400 and "user_id" in err["error"]["message"], err


async def test_platform_admin_has_no_presence(client: TestClient) -> None:
    status, _ = await call(client, "GET", "/presence", bearer(await login(client, "root")))
    assert status == 403


async def test_presence_follows_every_change(
    client: TestClient, world: World, db_pool: asyncpg.Pool, clock: FixedClock
) -> None:
    """The in-memory snapshot is re-read whenever users, devices or activities change."""
    h = bearer(await login(client, "alpha-user"))

    async def mine() -> dict:
        _, listed = await call(client, "GET", "/presence", h)
        return {p["user_id"]: p for p in listed}[world.users["alpha-admin"]]

    assert (await mine())["activity"] == "meeting"
    admin = world.users["alpha-admin"]
    await db_pool.execute("UPDATE user_activities SET kind = 'lunch', note = 'ny' WHERE user_id = $1", admin)
    assert ((await mine())["activity"], (await mine())["note"]) == ("lunch", "ny")
    await db_pool.execute("UPDATE users SET name = 'Renamed Admin' WHERE id = $1", admin)
    assert (await mine())["name"] == "Renamed Admin"
    await db_pool.execute("DELETE FROM user_activities WHERE user_id = $1", admin)
    assert (await mine())["activity"] == "available"
    # Until passes while nothing changes in the database: shown as available without a re-read.
    await db_pool.execute(
        "INSERT INTO user_activities (user_id, kind, until) VALUES ($1, 'busy', $2)",
        admin,
        clock() + timedelta(seconds=1),
    )
    assert (await mine())["activity"] == "busy"
    clock.advance(timedelta(milliseconds=999))
    assert (await mine())["activity"] == "busy"
    clock.advance(timedelta(milliseconds=1))
    assert (await mine())["activity"] == "available"
