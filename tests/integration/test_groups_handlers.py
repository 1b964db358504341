"""Answer groups on the FastAGI path over a real socket, with real PostgreSQL data: every variable
the dialplan reads is asserted (route to a group, its DID, group-to-group overflow, feature codes)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.call_paths import agi_handlers
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.feature import Runtime
from pbx_control.tenancy import devices, organizations, trunks, users
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.groups]


@pytest.fixture
async def world(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    await trunks.create_trunk(db_pool, "carrier", "127.0.0.2", 5080, "127.0.0.2")
    org = await organizations.create_organization(db_pool, "acme", "Acme", "+46812345600")
    out: dict = {"org": org["id"]}
    for ext, name in (("1001", "anna"), ("1002", "bo"), ("1003", "cecilia")):
        u = await users.create_user(db_pool, org["id"], ext, name, f"{name}@acme", "password-123456", "user")
        d, _ = await devices.create_device(db_pool, org["id"], u["id"], "desk")
        out[name] = (u["id"], d["sip_username"])
    g20 = await db_pool.fetchval(
        "INSERT INTO answer_groups (organization_id, extension, name, max_wait, overflow)"
        " VALUES ($1, '20', 'Support', 30, $2::jsonb) RETURNING id",
        org["id"],
        json.dumps({"kind": "group", "group_id": None}),
    )
    g21 = await db_pool.fetchval(
        "INSERT INTO answer_groups (organization_id, extension, name, overflow)"
        " VALUES ($1, '21', 'Backup', $2::jsonb) RETURNING id",
        org["id"],
        json.dumps({"kind": "external", "number": "+46701234567"}),
    )
    await db_pool.execute(
        "UPDATE answer_groups SET overflow = $2::jsonb WHERE id = $1",
        g20,
        json.dumps({"kind": "group", "group_id": g21}),
    )
    for pos, name in enumerate(("anna", "bo"), start=1):
        await db_pool.execute(
            "INSERT INTO answer_group_members (group_id, user_id, position, logged_in)"
            " VALUES ($1, $2, $3, $4)",
            g20,
            out[name][0],
            pos,
            name == "anna",
        )
    await db_pool.execute(
        "INSERT INTO numbers (number, organization_id, group_id) VALUES ('+46812345620', $1, $2)",
        org["id"],
        g20,
    )
    out.update(g20=g20, g21=g21)
    return out


@pytest.fixture
async def agi(db_pool: asyncpg.Pool, clock: FixedClock) -> AsyncIterator[int]:
    # The service's own composition: every feature's call targets and handlers.
    server = AgiServer(
        agi_handlers(Runtime(Settings(), db_pool, Dialplan(db_pool, Path("/nonexistent")), clock=clock)),
        host="127.0.0.1",
        port=0,
        deadline_s=2,
    )
    await server.start()
    yield server.bound_port
    await server.stop()


def device(endpoint: str, exten: str) -> dict[str, str]:
    return {"channel": f"PJSIP/{endpoint}-00000001", "accountcode": "acme", "extension": exten}


async def test_a_call_to_the_group_queues_with_overflow_to_the_next_group(world: dict, agi: int) -> None:
    queue = f"g{world['g20']}v1"
    r = await FakeAsterisk(agi).run("route", env=device(world["cecilia"][1], "20"))
    assert r.variables == {
        "PBX_ORG": "acme",
        "PBX_QUEUE": queue,
        "PBX_QUEUE_TIMEOUT": "30",
        "PBX_OVERFLOW_ROUTE": "group-goto",
        "PBX_OVERFLOW_GROUP_GOTO": "21",
        "PBX_ROUTE": "queue",
    }
    r = await FakeAsterisk(agi).run("inbound", env={"extension": "+46812345620"})
    assert r.variables["PBX_ROUTE"] == "queue" and r.variables["PBX_ORG"] == "acme"


async def test_night_by_schedule_and_holiday_on_every_path_into_the_group(
    world: dict, agi: int, db_pool: asyncpg.Pool, fixed_clock: FixedClock
) -> None:
    at = fixed_clock.instant
    schedule = [{"day": at.local_day, "open": at.local_time, "close": at.next_minute}]
    await db_pool.execute(
        "UPDATE answer_groups SET schedule = $2::jsonb WHERE id = $1", world["g20"], json.dumps(schedule)
    )

    async def routes() -> list[str]:
        paths: tuple[tuple[str, dict[str, str], list[str]], ...] = (
            ("route", device(world["cecilia"][1], "20"), []),
            ("inbound", {"extension": "+46812345620"}, []),
            ("group", {"accountcode": "acme"}, ["20", "0"]),
        )
        return [
            (await FakeAsterisk(agi).run(h, env=env, args=args)).variables["PBX_ROUTE"]
            for h, env, args in paths
        ]

    assert await routes() == ["queue"] * 3
    # closed the minute after; no night destination: the overflow (group 21) takes the calls
    fixed_clock.advance(timedelta(minutes=1))
    assert await routes() == ["group-goto"] * 3
    r = await FakeAsterisk(agi).run("route", env=device(world["cecilia"][1], "20"))
    assert r.variables == {"PBX_ORG": "acme", "PBX_ROUTE": "group-goto", "PBX_GROUP_GOTO": "21"}
    # a holiday on the local date closes the open minute
    fixed_clock.at = at.at
    holiday = [{"date": at.local_date.isoformat(), "name": "Helgdag"}]
    await db_pool.execute(
        "UPDATE answer_groups SET holidays = $2::jsonb WHERE id = $1", world["g20"], json.dumps(holiday)
    )
    assert await routes() == ["group-goto"] * 3


async def test_group_goto_with_nobody_logged_in_overflows_out_through_the_trunk(
    world: dict, agi: int
) -> None:
    r = await FakeAsterisk(agi).run("group", env={"accountcode": "acme"}, args=["21", "1"])
    assert r.variables == {
        "PBX_ORG": "acme",
        "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier",
        "PBX_DIAL_TIMEOUT": "120",
        "PBX_CALLERID_NUM": "+46812345600",
        "PBX_ROUTE": "external",
    }
    for args in (["21;x", "1"], ["99", "1"]):
        r = await FakeAsterisk(agi).run("group", env={"accountcode": "acme"}, args=args)
        assert r.variables == {"PBX_ROUTE": "unavailable"}, args
    r = await FakeAsterisk(agi).run("group", env={"accountcode": "evil;org"}, args=["21", "1"])
    assert r.variables == {"PBX_ROUTE": "unavailable"}


async def test_feature_codes_from_a_device(world: dict, agi: int, db_pool: asyncpg.Pool) -> None:
    bo_id, bo_dev = world["bo"]
    r = await FakeAsterisk(agi).run("group_feature", env=device(bo_dev, "*4520"), args=["login", "20"])
    assert r.variables == {"PBX_GROUP_ID": str(world["g20"]), "PBX_ROUTE": "feature-on"}
    logged = "SELECT logged_in FROM answer_group_members WHERE user_id = $1"
    assert await db_pool.fetchval(logged, bo_id) is True
    r = await FakeAsterisk(agi).run("group_feature", env=device(bo_dev, "*4520"), args=["login", "20"])
    assert r.variables["PBX_ROUTE"] == "feature-off"
    assert await db_pool.fetchval(logged, bo_id) is False
    # not a member; another organization's accountcode; a plain member switching night: refused
    cecilia_dev = world["cecilia"][1]
    for env, args in (
        (device(cecilia_dev, "*4520"), ["login", "20"]),
        ({**device(bo_dev, "*4520"), "accountcode": "beta"}, ["login", "20"]),
        (device(bo_dev, "*4620"), ["night", "20"]),
        (device(bo_dev, "*4520"), ["reboot", "20"]),
    ):
        r = await FakeAsterisk(agi).run("group_feature", env=env, args=args)
        assert r.variables == {"PBX_ROUTE": "feature-refused"}, (env, args)
    assert await db_pool.fetchval(logged, bo_id) is False
    assert (
        await db_pool.fetchval("SELECT night_manual FROM answer_groups WHERE id = $1", world["g20"]) is False
    )
