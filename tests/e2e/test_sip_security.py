"""Who may speak for the carrier: SIPp as the attacker, from an address that is not the trunk's.

The trunk is identified by its address only (its `match`), devices by their SIP username and a
digest password only, and no device can take a trunk's endpoint name.
"""

from __future__ import annotations

import itertools
import time

import pytest

from tests.e2e.conftest import CARRIER_IP, CARRIER_PORT, E2E, STRANGER_IP
from tests.support.api import Api
from tests.support.provision import new_org
from tests.support.sipp import SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.security, pytest.mark.tenancy]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed
TRUNK_ENDPOINT = "trunk_carrier"  # the session's trunk (tests/e2e/conftest.py), as /events shows it
FORGED_CALLER = "+46701234567"
_dids = itertools.count(1)


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


def test_a_stranger_using_the_trunks_name_is_not_the_carrier(e2e: E2E, platform: Api) -> None:
    assert STRANGER_IP != CARRIER_IP
    org = new_org(platform)
    anna = org.add_user("1001", "Anna")
    did = f"+46857{next(_dids):06d}"
    org.add_number(did, anna)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()

    ringing = phone.answer(timeout_s=6)
    time.sleep(SETTLE_S)
    stranger = e2e.stranger(TRUNK_ENDPOINT)
    # No password, the trunk's endpoint name as From user, a forged caller number: a digest
    # challenge it cannot answer, as for anyone Asterisk does not know.
    attack = stranger.call(did, expect=401, auth=False, from_user=TRUNK_ENDPOINT)
    ringing.wait(10)
    assert ringing.received("INVITE") == [], "a stranger passed for the carrier and rang a user"
    assert_ok(attack)
    # a device's name without its password: the same challenge
    device = e2e.stranger(anna.devices[0].sip_username)
    assert_ok(device.call("1001", expect=401, auth=False, from_user=anna.devices[0].sip_username))

    # The carrier, from the trunk's address, still reaches the number.
    answering = phone.answer()
    time.sleep(SETTLE_S)
    assert_ok(e2e.carrier(CARRIER_PORT + 2).call(did, auth=False, from_user=FORGED_CALLER))
    assert answering.wait(10) == 0, answering.explain()


def test_a_device_cannot_take_the_trunks_name(e2e: E2E, platform: Api) -> None:
    """An organization admin names a device like the trunk's endpoint, registers nothing, and calls
    from anywhere with that device's password: the database refuses the name, so nothing of it
    reaches Asterisk, and the carrier's calls in and out are not disturbed."""
    mallory_org, victim_org = new_org(platform), new_org(platform, main_number="+46812349800")
    mallory = mallory_org.add_user("1001", "Mallory", devices=0)
    anna = victim_org.add_user("1001", "Anna")
    did = f"+46857{next(_dids):06d}"
    victim_org.add_number(did, anna)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()

    password = "mallory-chose-this-1"
    body = {"kind": "desk", "sip_username": TRUNK_ENDPOINT, "password": password}
    created = mallory_org.admin.request("POST", f"/users/{mallory.id}/devices", body, check=False)
    status = mallory_org.admin.last_status
    try:
        ringing = phone.answer(timeout_s=6)
        time.sleep(SETTLE_S)
        # with the device's password, from anywhere: no call (whatever the refusal's code)
        attack = e2e.stranger(TRUNK_ENDPOINT, password).call(
            did, expect=403, from_user=TRUNK_ENDPOINT, timeout_s=6
        )
        assert not attack.received("SIP/2.0 200"), attack.explain()
        ringing.wait(10)
        assert ringing.received("INVITE") == [], "a device named like the trunk rang another organization"

        # the carrier's calls are the carrier's still: in ...
        answering = phone.answer()
        time.sleep(SETTLE_S)
        assert_ok(e2e.carrier(CARRIER_PORT + 2).call(did, auth=False, from_user=FORGED_CALLER))
        assert answering.wait(10) == 0, answering.explain()
        # ... and out
        carrier = e2e.carrier().answer()
        time.sleep(SETTLE_S)
        assert_ok(phone.call("0701234567"))
        assert carrier.wait(10) == 0, carrier.explain()
    finally:
        if status == 201:  # do not leave the name taken for the other tests of the session
            mallory_org.admin.request("DELETE", f"/devices/{created['device']['id']}", expect=204)
    assert status == 409, created
    assert created["error"]["message"] == "sip_username is already taken"  # says nothing of a trunk
