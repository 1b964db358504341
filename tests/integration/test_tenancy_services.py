"""The tenancy services the seeder calls, straight against PostgreSQL: scoping by organization,
generated SIP usernames, constraint errors as domain errors, rollback on bad input."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.kernel.errors import Conflict, Invalid, NotFound
from pbx_control.tenancy import devices, numbers, organizations, trunks, users

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]
PW = "long enough"


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")


async def _two_orgs(db: asyncpg.Pool) -> tuple[dict, dict, dict, dict]:
    acme = await organizations.create_organization(db, "acme", "Acme AB", "08-123 456 78", "Europe/Stockholm")
    bolt = await organizations.create_organization(db, "bolt", "Bolt AB", None, "Europe/Stockholm")
    a = await users.create_user(db, acme["id"], "1001", "Anna", "anna", PW, "admin", "sv")
    b = await users.create_user(db, bolt["id"], "1001", "Bo", "bo", PW, "admin", "en", email="bo@bolt.se")
    return acme, bolt, a, b


async def test_seeder_flow(db_pool: asyncpg.Pool) -> None:
    acme, bolt, anna, _ = await _two_orgs(db_pool)
    assert acme["main_number"] == "+46812345678" and bolt["main_number"] is None
    async with db_pool.acquire() as conn:
        device, password = await devices.create_device(conn, acme["id"], anna["id"], "desk", "Reception")
        second, _ = await devices.create_device(conn, acme["id"], anna["id"], "mobile")
        number = await numbers.create_number(conn, acme["id"], "0701234567", anna["id"])
        trunk = await trunks.create_trunk(conn, "carrier", "sip.example.net", 5060, "192.0.2.10")
    assert (device["sip_username"], second["sip_username"]) == ("acme_1001_1", "acme_1001_2")
    assert len(password) >= 20 and "sip_md5_cred" not in device
    assert number["number"] == "+46701234567"
    assert trunk["name"] == "carrier"
    dial = await db_pool.fetchval("SELECT dial FROM pbx_dial_targets WHERE id = 'acme-1001'")
    assert dial == "PJSIP/acme_1001_1&PJSIP/acme_1001_2"
    root = await users.create_platform_admin(db_pool, "Root", "root", PW)
    assert root["organization_id"] is None and root["extension"] is None


async def test_everything_is_scoped_by_organization(db_pool: asyncpg.Pool) -> None:
    acme, bolt, anna, bo = await _two_orgs(db_pool)
    device, _ = await devices.create_device(db_pool, bolt["id"], bo["id"], "desk")
    number = await numbers.create_number(db_pool, bolt["id"], "+46855512345", bo["id"])
    assert [u["id"] for u in await users.list_users(db_pool, acme["id"])] == [anna["id"]]
    with pytest.raises(NotFound):
        await users.get_user(db_pool, acme["id"], bo["id"])
    with pytest.raises(NotFound):
        await users.update_user(db_pool, acme["id"], bo["id"], name="x")
    with pytest.raises(NotFound):
        await users.delete_user(db_pool, acme["id"], bo["id"])
    with pytest.raises(NotFound):
        await devices.create_device(db_pool, acme["id"], bo["id"], "desk")
    with pytest.raises(NotFound):
        await devices.get_device(db_pool, acme["id"], device["id"])
    with pytest.raises(NotFound):
        await devices.reset_password(db_pool, acme["id"], device["id"])
    with pytest.raises(NotFound):
        await devices.delete_device(db_pool, acme["id"], device["id"])
    assert await devices.list_devices(db_pool, acme["id"], user_id=bo["id"]) == []
    with pytest.raises(NotFound):
        await numbers.get_number(db_pool, acme["id"], number["id"])
    with pytest.raises(NotFound):
        await numbers.assign_number(db_pool, acme["id"], number["id"], anna["id"])
    with pytest.raises(NotFound):
        await numbers.create_number(db_pool, acme["id"], "+46855599999", bo["id"])
    with pytest.raises(NotFound):
        await numbers.delete_number(db_pool, acme["id"], number["id"])
    assert (await users.get_user(db_pool, bolt["id"], bo["id"]))["name"] == "Bo"
    assert (await numbers.get_number(db_pool, bolt["id"], number["id"]))["user_id"] == bo["id"]


async def test_conflicts_and_invalid_input(db_pool: asyncpg.Pool) -> None:
    acme, _, anna, _ = await _two_orgs(db_pool)
    with pytest.raises(Conflict, match="extension"):
        await users.create_user(db_pool, acme["id"], "1001", "Dup", "dup", PW, "user", "sv")
    with pytest.raises(Conflict, match="username"):
        await users.create_user(db_pool, acme["id"], "1002", "Dup", "bo", PW, "user", "sv")
    with pytest.raises(Conflict, match="slug"):
        await organizations.create_organization(db_pool, "acme", "Again", None, "Europe/Stockholm")
    with pytest.raises(NotFound, match="organization"):
        await users.create_user(db_pool, 999999, "1002", "Ghost", "ghost", PW, "user", "sv")
    with pytest.raises(Invalid, match="platform"):
        await users.create_user(db_pool, acme["id"], None, "P", "plat", PW, "platform", "en")
    with pytest.raises(Invalid, match="kind"):
        await devices.create_device(db_pool, acme["id"], anna["id"], "fax")
    with pytest.raises(Invalid, match="match"):
        await trunks.create_trunk(db_pool, "bad", "host", 5060, "not-an-ip")
    with pytest.raises(Conflict, match="at least one admin"):
        await users.update_user(db_pool, acme["id"], anna["id"], role="user")
    with pytest.raises(Conflict, match="at least one admin"):
        await users.delete_user(db_pool, acme["id"], anna["id"])


async def test_bad_input_inside_a_caller_transaction_rolls_back_only_itself(db_pool: asyncpg.Pool) -> None:
    acme, _, anna, _ = await _two_orgs(db_pool)
    async with db_pool.acquire() as conn, conn.transaction():
        with pytest.raises(Conflict):
            await numbers.create_number(conn, acme["id"], "+46812345678", anna["id"])
            await numbers.create_number(conn, acme["id"], "+46812345678", anna["id"])
        await numbers.create_number(conn, acme["id"], "+46812345679")
    listed = [n["number"] for n in await numbers.list_numbers(db_pool, acme["id"])]
    assert listed == ["+46812345678", "+46812345679"]


async def test_device_names_stay_when_the_extension_changes(db_pool: asyncpg.Pool) -> None:
    acme, _, anna, _ = await _two_orgs(db_pool)
    first, _ = await devices.create_device(db_pool, acme["id"], anna["id"], "desk")
    await users.update_user(db_pool, acme["id"], anna["id"], extension="2001")
    newcomer = await users.create_user(db_pool, acme["id"], "1001", "New", "new", PW, "user", "sv")
    theirs, _ = await devices.create_device(db_pool, acme["id"], newcomer["id"], "desk")
    mine, _ = await devices.create_device(db_pool, acme["id"], anna["id"], "web")
    assert first["sip_username"] == "acme_1001_1"
    assert theirs["sip_username"] == "acme_1001_2"  # _1 still belongs to Anna's desk phone
    assert mine["sip_username"] == "acme_2001_1"
    assert (await devices.get_device(db_pool, acme["id"], first["id"]))["user_id"] == anna["id"]


async def test_deleting_an_organization_cascades(db_pool: asyncpg.Pool) -> None:
    acme, _, anna, _ = await _two_orgs(db_pool)
    await devices.create_device(db_pool, acme["id"], anna["id"], "desk")
    await organizations.delete_organization(db_pool, acme["id"])
    assert await db_pool.fetchval("SELECT count(*) FROM devices") == 0
    assert [o["slug"] for o in await organizations.list_organizations(db_pool)] == ["bolt"]
    with pytest.raises(NotFound):
        await organizations.delete_organization(db_pool, acme["id"])
