"""PostgreSQL stopped, dropped, not answering, or its connections all taken: the API, as the service
composes it, answers 503 with the JSON error body within a second, and comes back by itself; calls
are still routed while the API's connections are all taken (FastAGI has a pool of its own).

The service reaches PostgreSQL through a proxy the test cuts (tests/support/pgproxy.py), so the
cluster other tests share keeps running. The one timed assertion is the promise itself: 503
within 1 s (the answers come after about the API pool's 0.5 s acquire bound at most)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from pbx_control.agi.testing import FakeAsterisk
from pbx_control.api.app import PREFIX
from pbx_control.config import Settings
from pbx_control.runtime.postgres import PrivateCluster
from pbx_control.service import ControlService
from pbx_control.tenancy import devices
from pbx_control.testing import PASSWORD, World
from tests.support.pgproxy import PgProxy
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.faults]

BOUND_S = 1.0
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("POST", "/auth/login", {"username": "alpha-user", "password": PASSWORD}),
    ("GET", "/users/me", None),
    ("GET", "/users", None),
    ("GET", "/users/me/settings", None),
    ("PUT", "/users/me/settings", {"closed": True}),
    ("GET", "/users/me/contacts", None),
]


@pytest.fixture
async def proxy(pg_cluster: PrivateCluster) -> AsyncIterator[PgProxy]:
    p = PgProxy(pg_cluster.port)
    await p.start()
    yield p
    await p.close()


@pytest.fixture
async def service(db_url: str, world: World, proxy: PgProxy, tmp_path: Path) -> AsyncIterator[ControlService]:
    (tmp_path / "etc").mkdir()
    settings = Settings(
        database_url=proxy.url(db_url),
        api_port=free_port(),
        agi_port=free_port(),
        components=("api", "agi"),
        asterisk_etc=tmp_path / "etc",
        prompts_dir=tmp_path / "prompts",
    )
    svc = ControlService(settings)
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


@pytest.fixture
async def http(service: ControlService) -> AsyncIterator[aiohttp.ClientSession]:
    base = f"http://127.0.0.1:{service.settings.api_port}"
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def _request(
    http: aiohttp.ClientSession, method: str, path: str, token: str | None = None, body: Any = None
) -> tuple[int, Any, float]:
    """(status, JSON body, seconds taken); a request the server never answers fails the test."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(5):
        async with http.request(method, PREFIX + path, json=body, headers=headers) as resp:
            assert resp.content_type == "application/json", (method, path, resp.status)
            payload = await resp.json()
    return resp.status, payload, asyncio.get_running_loop().time() - started


async def _login(http: aiohttp.ClientSession) -> str:
    status, body, _ = await _request(http, "POST", "/auth/login", None, ENDPOINTS[0][2])
    assert status == 200, body
    return str(body["token"])


async def _assert_unavailable(http: aiohttp.ClientSession, token: str) -> None:
    seen = []
    for method, path, body in ENDPOINTS:
        status, payload, took = await _request(http, method, path, token, body)
        seen.append(f"{method} {path}: {status} in {took:.2f} s")
        assert status == 503, (method, path, payload)
        assert payload["error"]["code"] == "database_unavailable", payload
        assert took < BOUND_S, seen
    print("\n" + "\n".join(seen))


async def _drop_database(pg_cluster: PrivateCluster, db_url: str) -> None:
    conn = await asyncpg.connect(pg_cluster.url("postgres"))
    try:
        await conn.execute(f'DROP DATABASE "{db_url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


async def test_stopped_database_gives_503_within_a_second_and_the_api_comes_back(
    http: aiohttp.ClientSession, proxy: PgProxy
) -> None:
    token = await _login(http)
    await proxy.down()
    await _assert_unavailable(http, token)
    await proxy.up()
    status, me, _ = await _request(http, "GET", "/users/me", token)
    assert status == 200 and me["username"] == "alpha-user"


async def test_database_not_answering_gives_503_within_a_second(
    http: aiohttp.ClientSession, proxy: PgProxy
) -> None:
    token = await _login(http)
    await proxy.hang()
    await _assert_unavailable(http, token)
    await proxy.up()
    # The connections that hung are given up by their own timeouts: the API is back within seconds.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    status = 0
    while status != 200 and loop.time() < deadline:
        status, _, _ = await _request(http, "GET", "/users/me", token)
        if status != 200:
            await asyncio.sleep(0.2)
    assert status == 200


async def test_dropped_database_gives_503_within_a_second(
    http: aiohttp.ClientSession, pg_cluster: PrivateCluster, db_url: str
) -> None:
    token = await _login(http)
    await _drop_database(pg_cluster, db_url)
    await _assert_unavailable(http, token)


async def test_api_pool_exhausted_gives_503_and_calls_still_route(
    service: ControlService, http: aiohttp.ClientSession, db_pool: asyncpg.Pool, world: World
) -> None:
    token = await _login(http)
    phone, _ = await devices.create_device(db_pool, world.orgs["alpha"], world.users["alpha-admin"], "desk")
    callee = await db_pool.fetchval(
        "SELECT sip_username FROM devices WHERE id = $1", world.devices["alpha-user"]
    )
    env = {
        "channel": f"PJSIP/{phone['sip_username']}-00000001",
        "accountcode": "alpha",
        "extension": "1001",
        "context": "pbx-from-device",
    }
    assert service.pool is not None and service.agi is not None
    # Every connection of the API's pool taken (a flood of slow requests would do the same).
    held = [await service.pool.acquire() for _ in range(service.pool.get_max_size())]
    try:
        status, payload, took = await _request(http, "GET", "/users/me", token)
        assert status == 503 and payload["error"]["code"] == "database_unavailable", payload
        assert took < BOUND_S
        result = await FakeAsterisk(service.agi.bound_port).run("route", env=env)
        assert result.variables.get("PBX_ROUTE") == "dial", result
        assert result.variables["PBX_DIAL"] == f"PJSIP/{callee}"
        assert service.agi.timeouts_total == 0
    finally:
        for conn in held:
            await service.pool.release(conn)
    status, _, _ = await _request(http, "GET", "/users/me", token)
    assert status == 200
