"""A large contact import does not hold up calls: the file is parsed off the event loop that also
answers FastAGI, so routing requests made while a 10,000-card file is imported all meet the
production deadline, and the import still imports every card."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.config import Settings
from pbx_control.directory.imports import MAX_ROWS
from pbx_control.routing.call_path import handlers as routing_handlers
from pbx_control.tenancy import devices
from pbx_control.testing import World, bearer, login
from tests.support.directory import big_vcard, call

pytestmark = [pytest.mark.integration, pytest.mark.directory, pytest.mark.faults]

CALLERS = 4  # phones dialling in a loop while the import runs


@pytest.fixture
async def agi(db_url: str, world: World) -> AsyncIterator[tuple[AgiServer, dict[str, str]]]:
    """A FastAGI server with the production deadline, on a pool of its own (as the service builds
    it), and a call from alpha-user's desk phone to alpha-admin (1000), who has a phone too."""
    pool = await asyncpg.create_pool(db_url, min_size=2, max_size=4)
    assert pool is not None
    device = await pool.fetchrow(
        "SELECT id, sip_username FROM devices WHERE id = $1", world.devices["alpha-user"]
    )
    assert device is not None
    _, caller = device
    await devices.create_device(pool, world.orgs["alpha"], world.users["alpha-admin"], "desk")
    server = AgiServer(routing_handlers(pool), port=0, deadline_s=Settings.agi_deadline_s)
    await server.start()
    env = {
        "channel": f"PJSIP/{caller}-00000001",
        "accountcode": "alpha",
        "extension": "1000",
        "context": "pbx-from-device",
        "callerid": "1001",
    }
    try:
        yield server, env
    finally:
        await server.stop()
        await pool.close()


async def test_calls_meet_their_deadline_while_a_large_file_is_imported(
    client: TestClient, agi: tuple[AgiServer, dict[str, str]]
) -> None:
    server, env = agi
    data = big_vcard(MAX_ROWS)
    headers = bearer(await login(client, "alpha-user"))
    routes: list[str | None] = []
    importing = asyncio.Event()
    done = asyncio.Event()

    async def phone() -> None:
        while not done.is_set():
            result = await FakeAsterisk(server.bound_port).run("route", env=env)
            routes.append(result.variables.get("PBX_ROUTE"))
            await asyncio.sleep(0)
            if len(routes) >= 2 * CALLERS:
                importing.set()

    phones = [asyncio.create_task(phone()) for _ in range(CALLERS)]
    try:
        await importing.wait()  # calls flow before the import starts
        before = len(routes)
        status, report = await call(client, "POST", "/users/me/contacts/import", headers, data)
        during = len(routes) - before
    finally:
        done.set()
        await asyncio.gather(*phones)
    print(f"\n{len(data)} bytes imported; {during} calls routed during the import, {len(routes)} in all")
    assert status == 200, report
    assert report["imported"] == MAX_ROWS and report["rejected"] == [] and report["skipped"] == []
    assert server.timeouts_total == 0, f"{server.timeouts_total} calls missed the deadline"
    assert server.errors_total == 0
    assert during > 0 and set(routes) == {"dial"}
