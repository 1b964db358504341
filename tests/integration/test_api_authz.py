"""Who may do what, across roles (user, operator, admin, platform) and two organizations that
both have extension 1001. Cross-organization ids are 404 (never 403), wrong roles 403, no token 401,
and nothing in the other organization changes."""

from __future__ import annotations

import re

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.service import operations
from pbx_control.testing import World, bearer, login, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.api]
PROTECTED = [r for r in operations() if r.roles is not None]


def _beta_path(path: str, world: World) -> str:
    """Fill path parameters with ids that exist, in organization beta."""
    ids = {
        "user_id": world.users["beta-user"],
        "device_id": world.devices["beta-user"],
        "number_id": world.numbers["beta-user"],
        "org_id": world.orgs["beta"],
        "trunk_id": 1,
    }
    return PREFIX + re.sub(r"\{([a-z_]+)\}", lambda m: str(ids.get(m.group(1), 1)), path)


async def test_every_protected_route_needs_a_token(client: TestClient, world: World) -> None:
    for route in PROTECTED:
        resp = await client.request(route.method, _beta_path(route.path, world))
        assert resp.status == 401, (route.method, route.path)
        assert (await resp.json())["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("who", ["alpha-user", "alpha-operator", "alpha-admin", "root"])
async def test_roles_outside_a_route_get_403(
    client: TestClient, world: World, db_pool: asyncpg.Pool, who: str
) -> None:
    role = {"alpha-user": "user", "alpha-operator": "operator", "alpha-admin": "admin"}.get(who, "platform")
    token = await login(client, who)
    before = await snapshot(db_pool)
    refused = [r for r in PROTECTED if r.roles is not None and role not in r.roles]
    assert refused, "every role is refused somewhere"
    for route in refused:
        path = _beta_path(route.path, world)
        resp = await client.request(route.method, path, headers=bearer(token), json={})
        assert resp.status == 403, (who, route.method, route.path)
        assert (await resp.json())["error"]["code"] == "forbidden"
    assert await snapshot(db_pool) == before


async def test_admin_cannot_reach_the_other_organization(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    token = await login(client, "alpha-admin")
    h = bearer(token)
    before = await snapshot(db_pool)
    beta_user, beta_device = world.users["beta-user"], world.devices["beta-user"]
    beta_number = world.numbers["beta-user"]
    alpha_user = world.users["alpha-user"]
    attempts = [
        ("GET", f"/users/{beta_user}", None),
        ("PATCH", f"/users/{beta_user}", {"name": "hijacked"}),
        ("DELETE", f"/users/{beta_user}", None),
        ("GET", f"/users/{beta_user}/devices", None),
        ("POST", f"/users/{beta_user}/devices", {"kind": "desk"}),
        ("DELETE", f"/devices/{beta_device}", None),
        ("POST", f"/devices/{beta_device}/reset-password", {}),
        ("PATCH", f"/numbers/{beta_number}", {"user_id": alpha_user}),
        ("DELETE", f"/numbers/{beta_number}", None),
        ("PATCH", f"/numbers/{world.numbers['alpha-user']}", {"user_id": beta_user}),
        ("POST", "/numbers", {"number": "+46855555555", "user_id": beta_user}),
    ]
    for method, path, body in attempts:
        resp = await client.request(method, PREFIX + path, json=body, headers=h)
        assert resp.status == 404, (method, path, await resp.text())
        assert (await resp.json())["error"]["code"] == "not_found"
    assert await snapshot(db_pool) == before

    # The same answer as for an id that does not exist at all.
    other = await (await client.get(f"{PREFIX}/users/{beta_user}", headers=h)).json()
    missing = await (await client.get(f"{PREFIX}/users/987654321", headers=h)).json()
    assert other == missing


async def test_lists_show_only_the_own_organization(client: TestClient, world: World) -> None:
    for who in ("alpha-user", "alpha-operator", "alpha-admin"):
        users = await (await client.get(f"{PREFIX}/users", headers=bearer(await login(client, who)))).json()
        assert sorted(u["id"] for u in users) == sorted(
            world.users[f"alpha-{r}"] for r in ("admin", "user", "operator")
        )
    numbers = await (
        await client.get(f"{PREFIX}/numbers", headers=bearer(await login(client, "beta-admin")))
    ).json()
    assert [n["id"] for n in numbers] == [world.numbers["beta-user"]]


async def test_directory_for_members_full_records_for_admins(client: TestClient) -> None:
    member = bearer(await login(client, "alpha-user"))
    users = await (await client.get(f"{PREFIX}/users", headers=member)).json()
    assert all(set(u) == {"id", "extension", "name", "email"} for u in users)
    admin = bearer(await login(client, "alpha-admin"))
    users = await (await client.get(f"{PREFIX}/users", headers=admin)).json()
    assert all({"role", "username", "language"} <= set(u) for u in users)
    assert all("password" not in k for u in users for k in u)


async def test_same_extension_in_both_organizations_stays_apart(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    h = bearer(await login(client, "alpha-admin"))
    url = f"{PREFIX}/users/{world.users['alpha-user']}"
    resp = await client.patch(url, json={"name": "Alpha One"}, headers=h)
    assert resp.status == 200 and (await resp.json())["extension"] == "1001"
    rows = await db_pool.fetch("SELECT organization_id, name FROM users WHERE extension = '1001'")
    names = {row["organization_id"]: row["name"] for row in rows}
    assert names == {world.orgs["alpha"]: "Alpha One", world.orgs["beta"]: "beta user"}
    resp = await client.delete(url, headers=h)
    assert resp.status == 204
    left = await db_pool.fetch("SELECT organization_id FROM users WHERE extension = '1001'")
    assert [r["organization_id"] for r in left] == [world.orgs["beta"]]


async def test_platform_manages_organizations_not_their_users(client: TestClient, world: World) -> None:
    h = bearer(await login(client, "root"))
    orgs = await (await client.get(f"{PREFIX}/organizations", headers=h)).json()
    assert [o["slug"] for o in orgs] == ["alpha", "beta"]
    assert (await client.get(f"{PREFIX}/organizations/{world.orgs['beta']}", headers=h)).status == 200
    assert (await client.get(f"{PREFIX}/users", headers=h)).status == 403
    assert (await client.get(f"{PREFIX}/organizations/987654", headers=h)).status == 404
