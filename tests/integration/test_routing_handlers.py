"""The route and inbound handlers over a real FastAGI socket, with real PostgreSQL data:
every variable the dialplan will read is asserted."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.routing.call_path import handlers as build_handlers
from pbx_control.tenancy import devices, numbers, organizations, trunks, users

pytestmark = [pytest.mark.integration, pytest.mark.routing]


@pytest.fixture
async def world(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    await trunks.create_trunk(db_pool, "carrier", "127.0.0.2", 5080, "127.0.0.2")
    out: dict = {}
    for slug, main in (("acme", "+46812345600"), ("beta", "+46855500000")):
        org = await organizations.create_organization(db_pool, slug, slug.title(), main)
        anna = await users.create_user(
            db_pool, org["id"], "1001", f"Anna {slug}", f"anna@{slug}", "password-123456", "user"
        )
        d1, _ = await devices.create_device(db_pool, org["id"], anna["id"], "desk")
        d2, _ = await devices.create_device(db_pool, org["id"], anna["id"], "mobile")
        bo = await users.create_user(
            db_pool, org["id"], "1002", f"Bo {slug}", f"bo@{slug}", "password-123456", "user"
        )
        b1, _ = await devices.create_device(db_pool, org["id"], bo["id"], "desk")
        await users.create_user(
            db_pool, org["id"], "1003", "No Device", f"nodev@{slug}", "password-123456", "user"
        )
        out[slug] = {"org": org, "anna": [d1["sip_username"], d2["sip_username"]], "bo": b1["sip_username"]}
    await numbers.create_number(
        db_pool,
        out["acme"]["org"]["id"],
        "+46812345601",
        (await db_pool.fetchval("SELECT id FROM users WHERE username='anna@acme'")),
    )
    await numbers.create_number(db_pool, out["acme"]["org"]["id"], "+46812345609", None)
    return out


@pytest.fixture
async def agi(db_pool: asyncpg.Pool) -> AsyncIterator[int]:
    server = AgiServer(build_handlers(db_pool), host="127.0.0.1", port=0, deadline_s=2)
    await server.start()
    yield server.bound_port
    await server.stop()


def _device_env(endpoint: str, org: str, exten: str) -> dict[str, str]:
    return {
        "channel": f"PJSIP/{endpoint}-00000001",
        "accountcode": org,
        "extension": exten,
        "context": "pbx-from-device",
        "callerid": "1002",
        "calleridname": "Bo",
    }


async def test_internal_call_rings_all_devices_of_the_callee(world: dict, agi: int) -> None:
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["acme"]["bo"], "acme", "1001"))
    a1, a2 = world["acme"]["anna"]
    assert r.variables == {
        "PBX_DIAL": f"PJSIP/{a1}&PJSIP/{a2}",
        "PBX_DIAL_TIMEOUT": "30",
        "PBX_VOICEMAIL": "1001@acme",  # no answer or busy: the callee's voicemail
        "PBX_ROUTE": "dial",
    }


async def test_same_extension_in_two_organizations_stays_apart(world: dict, agi: int) -> None:
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["beta"]["bo"], "beta", "1001"))
    b1, b2 = world["beta"]["anna"]
    assert r.variables["PBX_DIAL"] == f"PJSIP/{b1}&PJSIP/{b2}"
    assert "acme" not in r.variables["PBX_DIAL"]


async def test_unknown_extension_and_user_without_device(world: dict, agi: int) -> None:
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["acme"]["bo"], "acme", "1999"))
    assert r.variables == {"PBX_ROUTE": "unknown"}
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["acme"]["bo"], "acme", "1003"))
    assert r.variables == {"PBX_ROUTE": "unavailable"}


async def test_outbound_uses_the_users_did_else_the_main_number(world: dict, agi: int) -> None:
    anna_desk = world["acme"]["anna"][0]
    r = await FakeAsterisk(agi).run("route", env=_device_env(anna_desk, "acme", "0701234567"))
    assert r.variables == {
        "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier",
        "PBX_DIAL_TIMEOUT": "120",
        "PBX_CALLERID_NUM": "+46812345601",
        "PBX_ROUTE": "external",
    }
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["acme"]["bo"], "acme", "0701234567"))
    assert r.variables["PBX_CALLERID_NUM"] == "+46812345600"


async def test_an_endpoint_cannot_borrow_another_organizations_caller_id(world: dict, agi: int) -> None:
    # accountcode says beta but the endpoint belongs to acme: no outbound facts, so no route out.
    r = await FakeAsterisk(agi).run("route", env=_device_env(world["acme"]["bo"], "beta", "0701234567"))
    assert r.variables == {"PBX_ROUTE": "unknown"}


async def test_inbound_did_reaches_its_user(world: dict, agi: int) -> None:
    a1, a2 = world["acme"]["anna"]
    for dialled in ("+46812345601", "46812345601", "0812345601"):
        r = await FakeAsterisk(agi).run(
            "inbound",
            env={
                "channel": "PJSIP/trunk_carrier-00000002",
                "extension": dialled,
                "context": "pbx-from-trunk",
            },
        )
        assert r.variables == {
            "PBX_DIAL": f"PJSIP/{a1}&PJSIP/{a2}",
            "PBX_DIAL_TIMEOUT": "30",
            "PBX_ORG": "acme",
            "PBX_VOICEMAIL": "1001@acme",
            "PBX_ROUTE": "dial",
        }, dialled


async def test_inbound_unassigned_or_foreign_number(world: dict, agi: int) -> None:
    r = await FakeAsterisk(agi).run("inbound", env={"extension": "+46812345609"})
    assert r.variables == {"PBX_ORG": "acme", "PBX_ROUTE": "unknown"}
    r = await FakeAsterisk(agi).run("inbound", env={"extension": "+4690000000"})
    assert r.variables == {"PBX_ROUTE": "unknown"}


async def test_hostile_caller_name_is_inert(world: dict, agi: int) -> None:
    env = _device_env(world["acme"]["bo"], "acme", "1001")
    env["calleridname"] = 'Eve" & EXEC Dial PJSIP/x; "'
    r = await FakeAsterisk(agi).run("route", env=env)
    assert r.variables["PBX_ROUTE"] == "dial"
    assert all(not c.upper().startswith("EXEC") for c in r.commands)
