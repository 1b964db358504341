"""Every API response says where its time went: `Server-Timing: app;dur=<ms>, ami;dur=<ms>`, the
service's own work apart from the time it waited for AMI responses. The service as composed, with
AMI played by a fake Asterisk whose ParkedCalls answer takes 300 ms."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from pbx_control.api.app import PREFIX
from pbx_control.config import Settings
from pbx_control.service import ControlService
from pbx_control.testing import PASSWORD, World
from tests.support.ports import free_port
from tests.unit.test_ami_client import SECRET, USERNAME, FakeAmi, eventually, frame

pytestmark = [pytest.mark.integration, pytest.mark.api]

SLOW_S = 0.3
_HEADER = re.compile(r"app;dur=([0-9]+\.[0-9]{2}), ami;dur=([0-9]+\.[0-9]{2})")


class SlowParking(FakeAmi):
    async def _answer(self, h: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        action, aid = h.get("Action", "").lower(), {"ActionID": h.get("ActionID", "")}
        if action == "parkedcalls":
            await asyncio.sleep(SLOW_S)
            writer.write(frame({"Response": "Error", **aid, "Message": "Parking lot could not be found"}))
            return True
        if action == "reload":  # the service's dialplan reload at start
            writer.write(frame({"Response": "Success", **aid, "Message": "Module Reloaded"}))
            return True
        return await super()._answer(h, writer)


@pytest.fixture
async def service(db_url: str, world: World, tmp_path: Path) -> AsyncIterator[ControlService]:
    ami = SlowParking(secret=SECRET + "-long-enough")
    await ami.start()
    (tmp_path / "etc").mkdir()
    settings = Settings(
        database_url=db_url,
        api_port=free_port(),
        components=("api", "ami"),
        ami_port=ami.port,
        ami_username=USERNAME,
        ami_secret=SECRET + "-long-enough",
        asterisk_etc=tmp_path / "etc",
        prompts_dir=tmp_path / "prompts",
        voicemail_spool_dir=tmp_path / "spool",
    )
    svc = ControlService(settings)
    await svc.start()
    try:
        assert svc.ami is not None
        lane = svc.ami.lane
        # the call model re-derived from the (fake) Asterisk, and both logins up
        await eventually(lambda: svc.calls.current and lane is not None and lane.connected, 10)
        yield svc
    finally:
        await svc.stop()
        await ami.close()


def _timing(response: aiohttp.ClientResponse) -> tuple[float, float]:
    header = response.headers.get("Server-Timing", "")
    m = _HEADER.fullmatch(header)
    assert m, f"Server-Timing {header!r}"
    return float(m.group(1)), float(m.group(2))


async def test_server_timing_on_every_response_with_the_ami_wait_apart(service: ControlService) -> None:
    api = f"http://127.0.0.1:{service.api_port}{PREFIX}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/auth/login", json={"username": "alpha-user", "password": PASSWORD}) as r:
            assert r.status == 200
            app_ms, ami_ms = _timing(r)
            token = (await r.json())["token"]
        assert ami_ms == 0 and app_ms > 0  # a login asks nothing of Asterisk
        auth = {"Authorization": f"Bearer {token}"}

        # waits on AMI: the 300 ms are Asterisk's, not the service's
        async with http.get(f"{api}/calls/parked", headers=auth) as r:
            assert r.status == 200, await r.text()
            assert await r.json() == []
            app_ms, ami_ms = _timing(r)
        # (app: whatever else the request waited for, the service's start-up work on its loop included)
        assert SLOW_S * 1000 * 0.9 <= ami_ms < SLOW_S * 1000 * 3 and app_ms > 0

        # errors, unknown paths and the web app's files carry it too
        for method, path, status in [
            ("GET", f"{api}/users/me", 401),
            ("GET", f"{api}/no-such-thing", 404),
            ("POST", f"{api}/calls/park", 401),
            ("GET", f"http://127.0.0.1:{service.api_port}/", 200),
        ]:
            async with http.request(method, path) as r:
                assert r.status == status, (path, r.status)
                _, ami_ms = _timing(r)
                assert ami_ms == 0
        # the sum is the whole request: another parked list, timed from outside
        loop = asyncio.get_running_loop()
        started = loop.time()
        async with http.get(f"{api}/calls/parked", headers=auth) as r:
            app_ms, ami_ms = _timing(r)
        outside_ms = (loop.time() - started) * 1000
        assert app_ms + ami_ms <= outside_ms + 1
