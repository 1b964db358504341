"""Test helpers: a running API test client composed as the service does it, and a small
two-organization world.

    async with api_client(pool) as client:
        world = await seed_world(pool)
        token = await login(client, "alpha-admin")
        resp = await client.get("/api/v1/users", headers=bearer(token))

Both organizations have a user on extension 1001, so any crossing shows up. Set
PBX_BCRYPT_ROUNDS=4 in tests to keep hashing fast.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.ami import CallModel, EventPublisher
from pbx_control.api.context import HealthProbe
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.feature import Runtime
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.service import api_app
from pbx_control.tenancy import devices, numbers, organizations, users
from pbx_control.tenancy.http_organizations import ORGANIZATIONS_CHANGED
from pbx_control.tenancy.sip import SipClientSettings

PASSWORD = "correct horse battery"  # noqa: S105 (test fixture)
SIP_TEST = SipClientSettings(domain="pbx.test", port=5060)


def composed_app(
    pool: asyncpg.Pool,
    *,
    settings: Settings | None = None,
    health_probe: HealthProbe | None = None,
    calls: CallModel | None = None,
    events: EventPublisher | None = None,
    clock: Clock = system_clock,
) -> web.Application:
    """The API as the service composes it (every feature), without an AMI connection; SIP domain
    pbx.test. calls / events: a live call model and publisher fed by the test; clock: the app's
    "now" (tests that involve the time of day pass a fixed one)."""
    settings = settings or Settings(sip_domain=SIP_TEST.domain, sip_port=SIP_TEST.port)
    # A dialplan directory that does not exist: writing org contexts fails, which is logged only.
    dialplan = Dialplan(pool, Path("/nonexistent/pbx-control-test"))
    rt = Runtime(settings, pool, dialplan, calls=calls, events=events, clock=clock)
    return api_app(rt, health_probe=health_probe)


@asynccontextmanager
async def api_client(
    pool: asyncpg.Pool,
    *,
    settings: Settings | None = None,
    health_probe: HealthProbe | None = None,
    on_organizations_changed: Callable[[], Awaitable[None]] | None = None,
    clock: Clock = system_clock,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = composed_app(pool, settings=settings, health_probe=health_probe, clock=clock)
    app[ORGANIZATIONS_CHANGED] = on_organizations_changed
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(
    client: TestClient[web.Request, web.Application], username: str, password: str = PASSWORD
) -> str:
    resp = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    body = await resp.json()
    assert resp.status == 200, body
    token: str = body["token"]
    return token


@dataclass
class World:
    """ids by short name: orgs["alpha"], users["alpha-user"], devices["beta-user"], numbers[...]."""

    orgs: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)


async def seed_world(pool: asyncpg.Pool) -> World:
    """Platform admin `root`; organizations alpha and beta, each with `<org>-admin` (1000),
    `<org>-user` (1001, one desk device, one number) and `<org>-operator` (1002)."""
    world = World()
    async with pool.acquire() as conn:
        root = await users.create_platform_admin(conn, "Root", "root", PASSWORD)
        world.users["root"] = root["id"]
        for i, slug in enumerate(("alpha", "beta")):
            org = await organizations.create_organization(
                conn, slug, slug.title(), f"+4681000000{i}", "Europe/Stockholm"
            )
            world.orgs[slug] = org["id"]
            for ext, role in (("1000", "admin"), ("1001", "user"), ("1002", "operator")):
                user = await users.create_user(
                    conn, org["id"], ext, f"{slug} {role}", f"{slug}-{role}", PASSWORD, role, "sv"
                )
                world.users[f"{slug}-{role}"] = user["id"]
            device, _ = await devices.create_device(conn, org["id"], world.users[f"{slug}-user"], "desk")
            world.devices[f"{slug}-user"] = device["id"]
            number = await numbers.create_number(
                conn, org["id"], f"+4687000000{i}", world.users[f"{slug}-user"]
            )
            world.numbers[f"{slug}-user"] = number["id"]
    return world


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    """Every row of the tenant tables, to assert that a refused request changed nothing."""
    tables = ("organizations", "users", "devices", "numbers", "trunks")
    async with pool.acquire() as conn:
        return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY id")] for t in tables}  # noqa: S608
