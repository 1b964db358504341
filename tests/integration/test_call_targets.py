"""Non-user call targets (answer groups and the like) plug into the route handlers through
Targets: asked only when the dialled extension or called DID is not a user, first claim wins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.dialplan.contract import Decision
from pbx_control.routing.call_path import handlers as build_handlers
from pbx_control.routing.targets import Targets
from pbx_control.tenancy import devices, numbers, organizations, users

pytestmark = [pytest.mark.integration, pytest.mark.routing]


@dataclass(frozen=True)
class Claimed:
    action: str
    reason: str = "test target"

    def variables(self) -> dict[str, str]:
        return {"PBX_ROUTE": self.action, "PBX_TARGET": "claimed"}


async def _claim_7000(organization: str, extension: str) -> Decision | None:
    return Claimed("testtarget") if (organization, extension) == ("acme", "7000") else None


async def _claim_number(organization: str, number: str) -> Decision | None:
    return Claimed("testnumber") if number == "+46812345609" else None


async def _never(organization: str, extension: str) -> Decision | None:
    return None


@pytest.fixture
async def agi(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[int, str]]:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    org = await organizations.create_organization(db_pool, "acme", "Acme", "+46812345600")
    anna = await users.create_user(db_pool, org["id"], "1001", "Anna", "anna@acme", "password-123456", "user")
    device, _ = await devices.create_device(db_pool, org["id"], anna["id"], "desk")
    await numbers.create_number(db_pool, org["id"], "+46812345609", None)
    await numbers.create_number(db_pool, org["id"], "+46812345601", anna["id"])
    targets = Targets(extensions=[_never, _claim_7000], numbers=[_claim_number])
    server = AgiServer(build_handlers(db_pool, targets), host="127.0.0.1", port=0, deadline_s=2)
    await server.start()
    yield server.bound_port, device["sip_username"]
    await server.stop()


def _env(endpoint: str, exten: str, context: str = "pbx-from-device") -> dict[str, str]:
    return {
        "channel": f"PJSIP/{endpoint}-00000001",
        "accountcode": "acme",
        "extension": exten,
        "context": context,
    }


async def test_an_extension_that_is_not_a_user_goes_to_the_target_that_claims_it(
    agi: tuple[int, str],
) -> None:
    port, device = agi
    r = await FakeAsterisk(port).run("route", env=_env(device, "7000"))
    assert r.variables == {"PBX_TARGET": "claimed", "PBX_ROUTE": "testtarget"}


async def test_a_user_extension_never_reaches_the_targets(agi: tuple[int, str]) -> None:
    port, device = agi
    r = await FakeAsterisk(port).run("route", env=_env(device, "1001"))
    assert r.variables["PBX_ROUTE"] == "dial"


async def test_an_unclaimed_extension_is_still_unknown(agi: tuple[int, str]) -> None:
    port, device = agi
    r = await FakeAsterisk(port).run("route", env=_env(device, "7001"))
    assert r.variables["PBX_ROUTE"] == "unknown"


async def test_a_did_without_a_user_goes_to_the_number_target(agi: tuple[int, str]) -> None:
    port, _ = agi
    env = {
        "channel": "PJSIP/trunk_carrier-00000001",
        "extension": "+46812345609",
        "context": "pbx-from-trunk",
    }
    r = await FakeAsterisk(port).run("inbound", env=env)
    assert r.variables == {"PBX_TARGET": "claimed", "PBX_ROUTE": "testnumber"}


async def test_a_did_of_a_user_rings_the_user(agi: tuple[int, str]) -> None:
    port, _ = agi
    env = {
        "channel": "PJSIP/trunk_carrier-00000001",
        "extension": "+46812345601",
        "context": "pbx-from-trunk",
    }
    r = await FakeAsterisk(port).run("inbound", env=env)
    assert r.variables["PBX_ROUTE"] == "dial"
