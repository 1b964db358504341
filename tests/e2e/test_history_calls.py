"""Call history with real calls: SIPp phones and carrier, Asterisk writing CEL into PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import PASSWORD, Device, Org, User, new_org
from tests.support.sipp import Phone, SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.history]

SETTLE_S = 0.3
_ports = itertools.count(TEST_PORT_BASE + 7000, 10)


def sql(e2e: E2E, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def new_phone(e2e: E2E, device: Device) -> Phone:
    p = Phone(device.sip_username, device.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    p.register()
    return p


def ok(run: SippRun, timeout_s: float = 20) -> None:
    assert run.wait(timeout_s) == 0, run.explain()


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.2)
    return result


def test_explore(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="hist")
    anna = org.add_user("1001", "Anna")
    bo = org.add_user("1002", "Bo")
    pa, pb = new_phone(e2e, anna.devices[0]), new_phone(e2e, bo.devices[0])
    answering = pb.answer()
    time.sleep(SETTLE_S)
    ok(pa.call("1002", hold_ms=1000))
    ok(answering)
    time.sleep(2)
    for r in sql(e2e, "SELECT eventtype, eventtime, cid_num, cid_name, cid_dnid, exten, context, channame, appname, appdata, uniqueid, linkedid, extra FROM cel ORDER BY id"):
        print(dict(r))
    for r in sql(e2e, "SELECT * FROM call_history"):
        print(dict(r))
    assert False
