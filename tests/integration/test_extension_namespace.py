"""A user and an answer group never share an extension in one organization (either API, either
order); other organizations are free to use it."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.kernel.errors import Conflict
from pbx_control.tenancy import users
from pbx_control.testing import World, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]


async def _group(pool: asyncpg.Pool, org_id: int, extension: str) -> None:
    await pool.execute(
        "INSERT INTO answer_groups (organization_id, extension, name) VALUES ($1, $2, 'Support')",
        org_id,
        extension,
    )


async def test_a_user_cannot_take_a_groups_extension(
    db_pool: asyncpg.Pool, world: World, client: TestClient, admin: dict[str, str]
) -> None:
    await _group(db_pool, world.orgs["alpha"], "20")
    before = await snapshot(db_pool)
    body = {"extension": "20", "name": "Ny", "username": "ny", "password": "long enough"}
    resp = await client.post(f"{PREFIX}/users", json=body, headers=admin)
    assert resp.status == 409
    assert "answer group" in (await resp.json())["error"]["message"]
    resp = await client.patch(
        f"{PREFIX}/users/{world.users['alpha-user']}", json={"extension": "20"}, headers=admin
    )
    assert resp.status == 409
    assert await snapshot(db_pool) == before


async def test_a_group_cannot_take_a_users_extension(db_pool: asyncpg.Pool, world: World) -> None:
    with pytest.raises(asyncpg.UniqueViolationError) as caught:
        await _group(db_pool, world.orgs["alpha"], "1001")
    assert caught.value.constraint_name == "extension_used_by_user"


async def test_another_organization_may_use_the_same_extension(db_pool: asyncpg.Pool, world: World) -> None:
    await _group(db_pool, world.orgs["alpha"], "20")
    created = await users.create_user(db_pool, world.orgs["beta"], "20", "Beta 20", "beta-20", "long enough")
    assert created["extension"] == "20"
    with pytest.raises(Conflict):
        await users.create_user(db_pool, world.orgs["alpha"], "20", "Alpha 20", "alpha-20", "long enough")
