"""Devices and trunks share the names Asterisk sees: no device is named like a trunk's endpoint
(trunk_<name>) and no trunk like a device, whichever comes first, whichever API (or plain SQL)
asks, and two transactions cannot race past each other."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.db.migrate import migrate, migration_files
from pbx_control.runtime.postgres import PrivateCluster
from pbx_control.testing import World, bearer, login, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.tenancy, pytest.mark.security]

_TRUNK = "INSERT INTO trunks (name, host, match) VALUES ($1, '192.0.2.1', '192.0.2.1')"
_DEVICE = (
    "INSERT INTO devices (user_id, organization_id, kind, sip_username, sip_md5_cred)"
    " VALUES ($1, $2, 'desk', $3, repeat('0', 32))"
)


async def test_a_device_cannot_take_a_trunks_endpoint_name(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    await db_pool.execute(_TRUNK, "carrier")
    before = await snapshot(db_pool)
    body = {"kind": "desk", "sip_username": "trunk_carrier", "password": "long-enough-pw"}
    resp = await client.post(f"{PREFIX}/users/{world.users['alpha-user']}/devices", json=body, headers=admin)
    assert resp.status == 409
    error = (await resp.json())["error"]
    # what another device's name would say: nothing about trunks
    assert error == {"code": "conflict", "message": "sip_username is already taken"}
    assert await snapshot(db_pool) == before
    assert await db_pool.fetchval("SELECT count(*) FROM ps_endpoints WHERE id = 'trunk_carrier'") == 1
    # a name no trunk has is free, also one that starts with trunk_
    body = {"kind": "desk", "sip_username": "trunk_spare"}
    resp = await client.post(f"{PREFIX}/users/{world.users['alpha-user']}/devices", json=body, headers=admin)
    assert resp.status == 201


async def test_a_trunk_cannot_take_a_devices_name(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    body = {"kind": "desk", "sip_username": "trunk_backup"}
    resp = await client.post(f"{PREFIX}/users/{world.users['alpha-user']}/devices", json=body, headers=admin)
    assert resp.status == 201
    root = bearer(await login(client, "root"))
    before = await snapshot(db_pool)
    trunk = {"name": "backup", "host": "sip.backup.example", "match": "192.0.2.0/24"}
    resp = await client.post(f"{PREFIX}/trunks", json=trunk, headers=root)
    assert resp.status == 409
    assert "trunk name is already taken" in (await resp.json())["error"]["message"]
    assert await snapshot(db_pool) == before
    resp = await client.post(f"{PREFIX}/trunks", json={**trunk, "name": "backup2"}, headers=root)
    assert resp.status == 201


async def test_postgresql_refuses_both_ways(db_pool: asyncpg.Pool, world: World) -> None:
    user, org = world.users["alpha-user"], world.orgs["alpha"]
    await db_pool.execute(_TRUNK, "one")
    with pytest.raises(asyncpg.UniqueViolationError) as caught:
        await db_pool.execute(_DEVICE, user, org, "trunk_one")
    assert caught.value.constraint_name == "sip_name_used_by_trunk"
    await db_pool.execute(_DEVICE, user, org, "trunk_two")
    with pytest.raises(asyncpg.UniqueViolationError) as caught:
        await db_pool.execute(_TRUNK, "two")
    assert caught.value.constraint_name == "sip_name_used_by_device"
    with pytest.raises(asyncpg.UniqueViolationError):
        await db_pool.execute("UPDATE trunks SET name = 'two' WHERE name = 'one'")
    with pytest.raises(asyncpg.UniqueViolationError):
        await db_pool.execute("UPDATE devices SET sip_username = 'trunk_one' WHERE sip_username ~ '^trunk_'")


async def test_two_transactions_cannot_race_past_each_other(db_pool: asyncpg.Pool, world: World) -> None:
    """The device is inserted but not committed when the trunk arrives: the trunk waits for it,
    then is refused."""
    user, org = world.users["alpha-user"], world.orgs["alpha"]
    async with db_pool.acquire() as first, db_pool.acquire() as second:
        tx = first.transaction()
        await tx.start()
        await first.execute(_DEVICE, user, org, "trunk_race")
        trunk = asyncio.create_task(second.execute(_TRUNK, "race"))
        await asyncio.sleep(0.3)
        assert not trunk.done()  # waiting on the name's lock, not on a unique index
        await tx.commit()
        with pytest.raises(asyncpg.UniqueViolationError) as caught:
            await trunk
    assert caught.value.constraint_name == "sip_name_used_by_device"


async def test_the_migration_refuses_a_database_where_a_device_already_took_a_trunks_name(
    pg_cluster: PrivateCluster, tmp_path: Path
) -> None:
    """Such a device is an attack in progress (it answers for the carrier): migrating stops and
    names it, rather than leaving it in place."""
    for path in migration_files():
        assert isinstance(path, Path)  # the migrations are files on disk
        if path.name < "009":
            shutil.copy(path, tmp_path)
    admin = await asyncpg.connect(pg_cluster.url("postgres"))
    await admin.execute('DROP DATABASE IF EXISTS "pbx_sip_names" WITH (FORCE)')
    await admin.execute('CREATE DATABASE "pbx_sip_names"')
    try:
        conn = await asyncpg.connect(pg_cluster.url("pbx_sip_names"))
        try:
            await migrate(conn, tmp_path)
            org = await conn.fetchval(
                "INSERT INTO organizations (slug, name) VALUES ('mal', 'M') RETURNING id"
            )
            user = await conn.fetchval(
                "INSERT INTO users (organization_id, extension, name, username, password_hash, role)"
                " VALUES ($1, '1001', 'M', 'mal', 'x', 'user') RETURNING id",
                org,
            )
            await conn.execute(_TRUNK, "carrier")
            await conn.execute(_DEVICE, user, org, "trunk_carrier")
            with pytest.raises(asyncpg.RaiseError, match="device trunk_carrier has the name of a trunk"):
                await migrate(conn)
            assert (
                await conn.fetchval("SELECT count(*) FROM pg_trigger WHERE tgname = 'devices_sip_name_free'")
                == 0
            )
        finally:
            await conn.close()
    finally:
        await admin.execute('DROP DATABASE IF EXISTS "pbx_sip_names" WITH (FORCE)')
        await admin.close()
