"""FastAGI in a process of its own (PBX_AGI_PROCESS=own, the default): the service starts it, the
API's changes reach its next decision through PostgreSQL (nothing cached in either process), a
child that dies is started again, and stopping the service stops it."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from pbx_control.agi.testing import FakeAsterisk
from pbx_control.api.app import PREFIX
from pbx_control.config import Settings
from pbx_control.service import ControlService
from pbx_control.service_agi import AgiProcess
from pbx_control.tenancy import devices
from pbx_control.testing import PASSWORD, World
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def service(db_url: str, world: World, tmp_path: Path) -> AsyncIterator[ControlService]:
    (tmp_path / "etc").mkdir()
    settings = Settings(
        database_url=db_url,
        api_port=free_port(),
        agi_port=free_port(),
        components=("api", "agi"),
        asterisk_etc=tmp_path / "etc",
        prompts_dir=tmp_path / "prompts",
    )
    assert settings.agi_process == "own"
    svc = ControlService(settings)
    await svc.start()
    try:
        yield svc
    finally:
        await svc.stop()


async def _until(check: Callable[[], bool], timeout_s: float = 15) -> None:
    async with asyncio.timeout(timeout_s):
        for _ in itertools.count():
            if check():
                return
            await asyncio.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting to be reaped is not serving
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"


async def test_own_process_routes_follows_the_api_restarts_and_stops(
    service: ControlService, db_pool: asyncpg.Pool, world: World
) -> None:
    agi = service.agi
    assert isinstance(agi, AgiProcess) and agi.pid is not None and agi.pid != os.getpid()
    assert service.agi_pool is None  # the child has the FastAGI pool, not this process
    phone, _ = await devices.create_device(db_pool, world.orgs["alpha"], world.users["alpha-admin"], "desk")
    callee_ext = await db_pool.fetchval(
        "SELECT extension FROM users WHERE id = $1", world.users["alpha-user"]
    )
    env = {
        "channel": f"PJSIP/{phone['sip_username']}-00000001",
        "accountcode": "alpha",
        "extension": callee_ext,
        "context": "pbx-from-device",
    }
    first = await FakeAsterisk(agi.bound_port).run("route", env=env)
    assert first.variables.get("PBX_ROUTE") == "dial", first

    # The API (this process) closes the callee's phone; the child's next decision sees it.
    api = f"http://127.0.0.1:{service.api_port}{PREFIX}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/auth/login", json={"username": "alpha-user", "password": PASSWORD}) as r:
            token = (await r.json())["token"]
        async with http.put(
            f"{api}/users/me/settings", json={"closed": True}, headers={"Authorization": f"Bearer {token}"}
        ) as r:
            assert r.status == 200, await r.text()
    closed = await FakeAsterisk(agi.bound_port).run("route", env=env)
    assert closed.variables.get("PBX_ROUTE") == "voicemail", closed

    # Killed, it comes back by itself (with a new pid) and routes again.
    old = agi.pid
    os.kill(old, signal.SIGKILL)
    await _until(lambda: agi.pid != old and agi.is_serving)
    assert agi.restarts == 1
    again = await FakeAsterisk(agi.bound_port).run("route", env=env)
    assert again.variables.get("PBX_ROUTE") == "voicemail", again
    await _until(lambda: agi.sessions_total >= 1)  # its counters reach the parent's health

    child = agi.pid
    assert child is not None
    await service.stop()
    assert not _alive(child)


async def test_the_child_runs_at_the_priority_configured(db_url: str, tmp_path: Path) -> None:
    # A priority below the service's own needs CAP_SYS_NICE; one above it is always allowed.
    want = -10 if os.geteuid() == 0 else min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)
    settings = Settings(
        database_url=db_url, agi_port=free_port(), asterisk_etc=tmp_path, prompts_dir=tmp_path, agi_nice=want
    )
    agi = AgiProcess(settings)
    await agi.start()
    try:
        assert agi.pid is not None
        assert os.getpriority(os.PRIO_PROCESS, agi.pid) == want
        cmdline = Path(f"/proc/{agi.pid}/cmdline").read_bytes()  # noqa: ASYNC240 (procfs)
        assert b"pbx_control.kernel.entry" in cmdline  # started without console-only imports
    finally:
        await agi.stop()
