"""The meeting dial-in's FastAGI handler over a real socket with PostgreSQL data: every variable
the dialplan reads is asserted (the prompt, a right PIN and a host PIN, wrong ones, the third try,
the slowing of repeated failures, another organization's PIN, deleted and ended meetings, the
outside dial-in number)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.call_paths import agi_handlers
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.feature import Runtime
from pbx_control.kernel.errors import Conflict
from pbx_control.meetings import repository
from pbx_control.meetings.agi import MeetingPrompts
from pbx_control.tenancy import numbers, trunks
from pbx_control.testing import World, seed_world
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.meetings]


@pytest.fixture
async def world(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    return await seed_world(db_pool)


@pytest.fixture
async def agi(db_pool: asyncpg.Pool, clock: FixedClock) -> AsyncIterator[int]:
    server = AgiServer(
        agi_handlers(Runtime(Settings(), db_pool, Dialplan(db_pool, Path("/nonexistent")), clock=clock)),
        host="127.0.0.1",
        port=0,
        deadline_s=2,
    )
    await server.start()
    yield server.bound_port
    await server.stop()


async def _meeting(pool: asyncpg.Pool, world: World, org: str = "alpha", **kw: Any) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        return await repository.create(
            conn, world.orgs[org], world.users[f"{org}-user"], "Möte", kw.get("starts"), kw.get("ends")
        )


async def _endpoint(pool: asyncpg.Pool, world: World, who: str) -> str:
    sip: str = await pool.fetchval("SELECT sip_username FROM devices WHERE id = $1", world.devices[who])
    return sip


async def _pin(
    agi: int, org: str, endpoint: str | None, pin: str, attempt: int, num: str = ""
) -> dict[str, str]:
    env = {"accountcode": org, "extension": "s", "callerid": num or "1001"}
    env["channel"] = f"PJSIP/{endpoint}-00000001" if endpoint else "PJSIP/carrier-00000001"
    r = await FakeAsterisk(agi).run("meeting_pin", env=env, args=[pin, str(attempt)])
    return r.variables


def _key(lang: str, say: str) -> str:
    key = MeetingPrompts.key(lang, say)  # type: ignore[arg-type]
    assert key is not None
    return key


async def test_start_wrong_then_right_pin_joins_the_room(
    db_pool: asyncpg.Pool, world: World, agi: int
) -> None:
    m = await _meeting(db_pool, world)
    ep = await _endpoint(db_pool, world, "alpha-user")
    await db_pool.execute("UPDATE users SET language = 'en' WHERE id = $1", world.users["alpha-user"])
    assert await _pin(agi, "alpha", ep, "start", 0) == {
        "PBX_MEETING_ASK": _key("en", "ask"),
        "PBX_ROUTE": "meeting-retry",
    }
    wrong = "000000" if m["pin"] != "000000" else "111111"
    assert await _pin(agi, "alpha", ep, wrong, 1) == {
        "PBX_MEETING_SAY": _key("en", "wrong"),
        "PBX_MEETING_ASK": _key("en", "ask"),
        "PBX_ROUTE": "meeting-retry",
    }
    # the owner's own device: the host, without the host PIN
    assert await _pin(agi, "alpha", ep, m["pin"], 2) == {
        "PBX_MEETING_ROOM": f"m{m['id']}",
        "PBX_MEETING_PROFILE": "pbx-host",
        "PBX_MEETING_SAY": _key("en", "joined"),
        "PBX_ROUTE": "meeting-join",
    }
    host = await _pin(agi, "alpha", ep, m["host_pin"], 1)
    assert host["PBX_MEETING_PROFILE"] == "pbx-host" and host["PBX_ROUTE"] == "meeting-join"
    # anyone else with the PIN is a participant; with the host PIN, the host
    outside = await _pin(agi, "alpha", None, m["pin"], 1, num="+46701234567")
    assert outside["PBX_MEETING_PROFILE"] == "pbx-participant" and outside["PBX_ROUTE"] == "meeting-join"
    outside = await _pin(agi, "alpha", None, m["host_pin"], 1, num="+46701234567")
    assert outside["PBX_MEETING_PROFILE"] == "pbx-host"


async def test_three_wrong_pins_end_the_call_and_another_orgs_pin_opens_nothing(
    db_pool: asyncpg.Pool, world: World, agi: int
) -> None:
    beta = await _meeting(db_pool, world, "beta")
    ep = await _endpoint(db_pool, world, "alpha-user")  # Swedish
    for attempt in (1, 2):
        got = await _pin(agi, "alpha", ep, beta["pin"], attempt)
        assert got["PBX_ROUTE"] == "meeting-retry" and got["PBX_MEETING_SAY"] == _key("sv", "wrong")
    got = await _pin(agi, "alpha", ep, beta["host_pin"], 3)
    assert got == {"PBX_MEETING_SAY": _key("sv", "goodbye"), "PBX_ROUTE": "meeting-end"}


async def test_repeated_failures_are_slowed_per_caller_and_per_dial_in(
    db_pool: asyncpg.Pool, world: World, agi: int, clock: FixedClock
) -> None:
    m = await _meeting(db_pool, world)
    # one outside caller: 3 free failures, then each try waits (2 s doubling)
    for _ in range(2):
        assert "PBX_MEETING_WAIT" not in await _pin(agi, "alpha", None, "999999", 1, num="+46701111111")
    third = await _pin(agi, "alpha", None, "999999", 1, num="+46701111111")
    assert third["PBX_MEETING_WAIT"] == "2"
    # while it must wait, even the right PIN is not checked
    early = await _pin(agi, "alpha", None, m["pin"], 2, num="+46701111111")
    assert early["PBX_ROUTE"] == "meeting-retry" and early["PBX_MEETING_WAIT"] == "2"
    clock.advance(timedelta(seconds=2))
    assert (await _pin(agi, "alpha", None, m["pin"], 2, num="+46701111111"))["PBX_ROUTE"] == "meeting-join"
    # a script changing its caller id: the organization's dial-in slows all callers after 10
    for i in range(8):
        await _pin(agi, "alpha", None, "999999", 1, num=f"+4670200000{i}")
    # 3 + 7 failures counted; the 8th caller was already told to wait (not checked, not counted)
    fresh = await _pin(agi, "alpha", None, m["pin"], 1, num="+46703333333")
    assert fresh["PBX_ROUTE"] == "meeting-retry" and fresh["PBX_MEETING_WAIT"] == "2"
    clock.advance(timedelta(seconds=2))
    again = await _pin(agi, "alpha", None, "999999", 1, num="+46703333333")
    assert again["PBX_MEETING_WAIT"] == "4"  # 11 failures: 2 s * 2^(11-10)
    # another organization's dial-in is not slowed by it
    ep_beta = await _endpoint(db_pool, world, "beta-user")
    assert "PBX_MEETING_WAIT" not in await _pin(agi, "beta", ep_beta, "999999", 1)


async def test_deleted_and_ended_meetings_say_so(
    db_pool: asyncpg.Pool, world: World, agi: int, clock: FixedClock
) -> None:
    ended = await _meeting(
        db_pool, world, ends=clock() - timedelta(minutes=1), starts=clock() - timedelta(hours=1)
    )
    gone = await _meeting(db_pool, world)
    await db_pool.execute("UPDATE meetings SET deleted_at = now() WHERE id = $1", gone["id"])
    ep = await _endpoint(db_pool, world, "alpha-user")
    assert await _pin(agi, "alpha", ep, ended["pin"], 1) == {
        "PBX_MEETING_SAY": _key("sv", "ended"),
        "PBX_ROUTE": "meeting-end",
    }
    assert (await _pin(agi, "alpha", ep, gone["pin"], 1))["PBX_MEETING_SAY"] == _key("sv", "deleted")


async def test_the_outside_dial_in_number_routes_to_the_dial_in(
    db_pool: asyncpg.Pool, world: World, agi: int
) -> None:
    async with db_pool.acquire() as conn:
        await numbers.create_number(conn, world.orgs["alpha"], "+46870000099")
        with pytest.raises(Conflict):  # a user's number stays the user's
            await repository.set_dial_in(conn, world.orgs["alpha"], "+46870000000")
        await repository.set_dial_in(conn, world.orgs["alpha"], "+46870000099")
    r = await FakeAsterisk(agi).run("inbound", env={"extension": "+46870000099"})
    assert r.variables["PBX_ROUTE"] == "meeting" and r.variables["PBX_ORG"] == "alpha"


async def test_conference_dial_routes_as_the_hosts_own_call_and_only_for_its_organization(
    db_pool: asyncpg.Pool, world: World, agi: int
) -> None:
    """Someone rung into an ad-hoc conference (a Local channel, no endpoint of its own) gets the
    decision a call dialled on the host's device gets; a host device of another organization, or
    none, routes nowhere."""
    await trunks.create_trunk(db_pool, "carrier", "127.0.0.2", 5080, "127.0.0.2")
    host = await _endpoint(db_pool, world, "alpha-user")
    stranger = await _endpoint(db_pool, world, "beta-user")
    local = {"accountcode": "alpha", "channel": "Local/1000@pbx-conf-dial-00000001;2"}
    routes = []
    for dialled in ("1000", "1002", "+46701234567", "+46900123456"):
        own = await FakeAsterisk(agi).run(
            "route", env={"accountcode": "alpha", "channel": f"PJSIP/{host}-00000001", "extension": dialled}
        )
        rung = await FakeAsterisk(agi).run(
            "conference_dial", env={**local, "extension": dialled}, args=[host]
        )
        assert rung.variables == own.variables, dialled
        routes.append(rung.variables["PBX_ROUTE"])
    # a colleague without a device, one with, an outside number, premium rate (the call policy)
    assert routes == ["unavailable", "unavailable", "external", "refused"], routes
    for args in ([stranger], [], ["not an endpoint!"]):
        got = await FakeAsterisk(agi).run("conference_dial", env={**local, "extension": "1000"}, args=args)
        assert got.variables == {"PBX_ROUTE": "unknown"}, args
