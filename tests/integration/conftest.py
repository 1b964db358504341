"""Fixtures shared by the API integration tests: two seeded organizations and a client on them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import World, api_client, bearer, login, seed_world
from tests.support.clock import FixedClock


@pytest.fixture(autouse=True)
def _fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")


@pytest.fixture
async def world(db_pool: asyncpg.Pool) -> World:
    return await seed_world(db_pool)


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World, clock: FixedClock) -> AsyncIterator[TestClient]:
    async with api_client(db_pool, clock=clock) as c:
        yield c


@pytest.fixture
async def admin(client: TestClient) -> dict[str, str]:
    """Authorization header of alpha's organization admin."""
    return bearer(await login(client, "alpha-admin"))
