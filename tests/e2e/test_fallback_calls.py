"""The dialplan's fallback, when the control service does not route a call: numbers ring from
PostgreSQL."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.api import Api
from tests.support.provision import PASSWORD, Org, User, new_org
from tests.support.sipp import Phone, SippRun, header

pytestmark = [pytest.mark.e2e, pytest.mark.routing]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed
BLOCKED = "+46701112233"
_dids = itertools.count(1)


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


@dataclass
class Callee:
    org: Org
    anna: User
    did: str
    phone: Phone
    api: Api


def callee(e2e: E2E, platform: Api) -> Callee:
    """Anna, with a number (DID) and a registered phone, who blocked BLOCKED and anonymous callers."""
    org = new_org(platform, prefix="fb", main_number="+46812349700")
    anna = org.add_user("1001", "Anna")
    did = f"+46858{next(_dids):06d}"
    org.add_number(did, anna)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    api = Api(e2e.control.api).login(anna.username, PASSWORD)
    api.post("/users/me/caller-lists", {"number": BLOCKED, "kind": "blocked"}, expect=201)
    api.request("PUT", "/users/me/settings", {"block_anonymous": True}, expect=200)
    return Callee(org, anna, did, phone, api)


@contextmanager
def control_down(e2e: E2E) -> Iterator[None]:
    e2e.control.stop()
    try:
        yield
    finally:
        e2e.control.start()


# The carrier's side calling us, on a port whose media ports (+10000, +10002) are not those of its
# answering side (CARRIER_PORT), which may be waiting at the same time.
CARRIER_CALLS_FROM = CARRIER_PORT + 4


def from_carrier(e2e: E2E, did: str, caller: str, expect: int = 200) -> SippRun:
    return e2e.carrier(CARRIER_CALLS_FROM).call(did, expect=expect, auth=False, from_user=caller)


# -- the fallback rings ----------------------------------------------------------------------------


def test_a_number_rings_its_user_from_the_database_when_the_control_service_is_down(
    e2e: E2E, platform: Api
) -> None:
    c = callee(e2e, platform)
    with control_down(e2e):
        answering = c.phone.answer()
        time.sleep(SETTLE_S)
        assert_ok(from_carrier(e2e, c.did, "+46709998877"))
        assert answering.wait(10) == 0, answering.explain()
        assert_ok(from_carrier(e2e, "+46858999999", "+46709998877", expect=404))  # not ours


def test_a_device_calls_out_through_the_trunk_when_the_control_service_is_down(
    e2e: E2E, platform: Api
) -> None:
    c = callee(e2e, platform)
    with control_down(e2e):
        carrier = e2e.carrier().answer()
        time.sleep(SETTLE_S)
        assert_ok(c.phone.call("0701234567"))
        assert carrier.wait(10) == 0, carrier.explain()
        invite = carrier.received("INVITE")[0]
        assert invite.startswith("INVITE sip:0701234567@")
        assert "sip:+46812349700@" in header(invite, "From")  # the organization's number
