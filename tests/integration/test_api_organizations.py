"""Platform admins manage organizations (and trunks); the on_organizations_changed hook runs
after creation and deletion, and its failures never turn into a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.testing import World, api_client, bearer, login, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]
ADMIN = {"extension": "100", "name": "Första Admin", "username": "gamma-admin", "password": "long enough"}


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World, calls: list[str]) -> AsyncIterator[TestClient]:
    async def changed() -> None:
        calls.append("changed")

    async with api_client(db_pool, on_organizations_changed=changed) as c:
        yield c


@pytest.fixture
async def root(client: TestClient) -> dict[str, str]:
    return bearer(await login(client, "root"))


async def test_create_with_first_admin_then_delete(
    client: TestClient, root: dict[str, str], calls: list[str], db_pool: asyncpg.Pool
) -> None:
    resp = await client.post(
        f"{PREFIX}/organizations",
        json={"slug": "gamma", "name": "Gamma AB", "main_number": "08-555 000 00", "admin": ADMIN},
        headers=root,
    )
    assert resp.status == 201, await resp.text()
    org = await resp.json()
    assert org["main_number"] == "+46855500000" and org["timezone"] == "Europe/Stockholm"
    assert org["working_hours"]["mon"] == ["08:00", "17:00"]
    assert org["admin"]["role"] == "admin" and org["admin"]["organization_id"] == org["id"]
    assert calls == ["changed"]
    outbound = await db_pool.fetchval("SELECT callerid FROM pbx_org_outbound WHERE id = 'gamma'")
    assert outbound == "+46855500000"

    gamma_admin = bearer(await login(client, "gamma-admin", ADMIN["password"]))
    users = await (await client.get(f"{PREFIX}/users", headers=gamma_admin)).json()
    assert [u["username"] for u in users] == ["gamma-admin"]

    assert (await client.delete(f"{PREFIX}/organizations/{org['id']}", headers=root)).status == 204
    assert calls == ["changed", "changed"]
    assert await db_pool.fetchval("SELECT count(*) FROM users WHERE username = 'gamma-admin'") == 0
    assert (await client.get(f"{PREFIX}/users/me", headers=gamma_admin)).status == 401


async def test_invalid_first_admin_creates_no_organization(
    client: TestClient, root: dict[str, str], calls: list[str], db_pool: asyncpg.Pool
) -> None:
    before = await snapshot(db_pool)
    for body, status, word in (
        ({"slug": "gamma", "name": "G", "admin": {**ADMIN, "username": "alpha-user"}}, 409, "username"),
        ({"slug": "gamma", "name": "G", "admin": {**ADMIN, "extension": "0"}}, 400, "extension"),
        ({"slug": "Gamma", "name": "G"}, 400, "slug"),
        ({"slug": "alpha", "name": "G"}, 409, "slug"),
        ({"slug": "gamma", "name": "G", "main_number": "555"}, 400, "phone number"),
        ({"slug": "gamma", "name": "G", "timezone": "Europe/Gotham"}, 400, "timezone"),
        ({"slug": "gamma", "name": ""}, 400, "name"),
    ):
        resp = await client.post(f"{PREFIX}/organizations", json=body, headers=root)
        assert resp.status == status, (body, await resp.text())
        assert word in (await resp.json())["error"]["message"]
    assert await snapshot(db_pool) == before
    assert calls == []


async def test_update_organization(client: TestClient, world: World, root: dict[str, str]) -> None:
    url = f"{PREFIX}/organizations/{world.orgs['alpha']}"
    hours = {"mon": ["07:30", "16:00"], "sat": ["10:00", "14:00"]}
    resp = await client.patch(
        url, json={"name": 'Alpha "Prime"', "main_number": None, "working_hours": hours}, headers=root
    )
    assert resp.status == 200
    org = await resp.json()
    assert org["name"] == 'Alpha "Prime"' and org["main_number"] is None and org["working_hours"] == hours
    for body, word in (
        ({"slug": "other"}, "slug"),
        ({"working_hours": {"mon": ["9", "5"]}}, "working_hours"),
        ({}, "nothing to update"),
    ):
        resp = await client.patch(url, json=body, headers=root)
        assert resp.status == 400 and word in (await resp.json())["error"]["message"]


async def test_add_admin_to_an_organization(client: TestClient, world: World, root: dict[str, str]) -> None:
    resp = await client.post(
        f"{PREFIX}/organizations/{world.orgs['beta']}/admins",
        json={**ADMIN, "username": "beta-boss"},
        headers=root,
    )
    assert resp.status == 201
    assert (await resp.json())["organization_id"] == world.orgs["beta"]
    resp = await client.post(f"{PREFIX}/organizations/424242/admins", json=ADMIN, headers=root)
    assert resp.status == 404


async def test_hook_failure_is_logged_not_returned(db_pool: asyncpg.Pool, world: World) -> None:
    async def broken() -> None:
        raise RuntimeError("dialplan reload failed")

    async with api_client(db_pool, on_organizations_changed=broken) as client:
        root = bearer(await login(client, "root"))
        resp = await client.post(f"{PREFIX}/organizations", json={"slug": "delta", "name": "D"}, headers=root)
        assert resp.status == 201
        assert await db_pool.fetchval("SELECT count(*) FROM organizations WHERE slug = 'delta'") == 1


async def test_trunks(client: TestClient, root: dict[str, str], db_pool: asyncpg.Pool) -> None:
    body = {"name": "carrier", "host": "sip.carrier.example", "match": "192.0.2.0/24"}
    resp = await client.post(f"{PREFIX}/trunks", json=body, headers=root)
    assert resp.status == 201
    trunk = await resp.json()
    assert trunk["port"] == 5060
    assert await db_pool.fetchval("SELECT trunk FROM pbx_org_outbound WHERE id = 'alpha'") == "trunk_carrier"
    assert (await client.post(f"{PREFIX}/trunks", json=body, headers=root)).status == 409
    bad = await client.post(f"{PREFIX}/trunks", json={**body, "name": "x2", "match": "nope"}, headers=root)
    assert bad.status == 400
    assert len(await (await client.get(f"{PREFIX}/trunks", headers=root)).json()) == 1
    assert (await client.delete(f"{PREFIX}/trunks/{trunk['id']}", headers=root)).status == 204
