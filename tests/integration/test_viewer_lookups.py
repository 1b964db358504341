"""ViewerLookups (the live events' and call control's view of a member): operators and admins see
every device of their organization, a plain user their own; viewers asked at once (a thousand
WebSockets connecting) share one set of the organization's devices instead of a copy each."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from pbx_control.callcontrol.visibility import ViewerLookups
from pbx_control.tenancy import devices
from pbx_control.testing import World, seed_world

pytestmark = [pytest.mark.integration, pytest.mark.calls, pytest.mark.events]


@pytest.fixture
async def world(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    world = await seed_world(db_pool)
    async with db_pool.acquire() as conn:
        device, _ = await devices.create_device(conn, world.orgs["alpha"], world.users["alpha-admin"], "desk")
    world.devices["alpha-admin"] = device["id"]
    return world


async def _sip(pool: asyncpg.Pool, world: World, who: str) -> str:
    name: str = await pool.fetchval("SELECT sip_username FROM devices WHERE id = $1", world.devices[who])
    return name


async def test_operators_and_admins_share_their_organizations_devices(
    db_pool: asyncpg.Pool, world: World
) -> None:
    lookups = ViewerLookups(db_pool)
    org = world.orgs["alpha"]
    admin, operator, user = await asyncio.gather(
        lookups.viewer(world.users["alpha-admin"], org, "admin"),
        lookups.viewer(world.users["alpha-operator"], org, "operator"),
        lookups.viewer(world.users["alpha-user"], org, "user"),
    )
    assert admin is not None and operator is not None and user is not None
    everyone = {await _sip(db_pool, world, "alpha-admin"), await _sip(db_pool, world, "alpha-user")}
    assert admin.endpoints == operator.endpoints == everyone
    assert admin.endpoints is operator.endpoints  # one set, not a copy per viewer
    assert admin.scope is None and operator.scope is None
    assert user.endpoints == {await _sip(db_pool, world, "alpha-user")}
    assert user.scope == user.endpoints
    # another organization's member is nobody here
    assert await lookups.viewer(world.users["beta-admin"], org, "admin") is None
