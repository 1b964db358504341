"""Deleting leaves no live state (issue 13, item 9): a deleted device's call is hung up and its
registration dropped, so when a new device gets the same SIP username, a call to the user never
rings the former holder's phone; a new SIP password drops the registration too, and the old
password no longer registers."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import SETTLE_S, ok, phone, until
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.tenancy, pytest.mark.security]


def _contacts(e2e: E2E) -> str:
    return e2e.stack.asterisk_instance().cli("database show registrar")


def test_a_deleted_device_is_hung_up_and_its_reused_name_never_rings_the_old_phone(
    e2e: E2E, platform: Api
) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    old_phone, bo_phone = phone(e2e, anna), phone(e2e, bo)
    name = anna.devices[0].sip_username
    (device,) = org.admin.get(f"/users/{anna.id}/devices")

    answering = old_phone.answer(timeout_s=30)
    time.sleep(SETTLE_S)
    call = bo_phone.call("1001", hold_ms=20000, wait=False, timeout_s=30, remote_may_hang_up=True)
    until("Bo and Anna talking", lambda: [c for c in org.admin.get("/calls") if c["bridged"]])
    assert f"/registrar/contact/{name};@" in _contacts(e2e)
    started = time.monotonic()
    org.admin.request("DELETE", f"/devices/{device['id']}", expect=204)
    ok(call, 10)
    ok(answering, 10)
    assert time.monotonic() - started < 5, "the call went on after the device was deleted"
    assert call.received("BYE") and answering.received("BYE"), "Asterisk hung up both legs"
    assert f"/registrar/contact/{name};@" not in _contacts(e2e)

    # The name goes to a new device (with its own password, nobody registered yet): Anna's calls
    # must not reach the old phone, which still answers at the address it had registered.
    org.admin.post(f"/users/{anna.id}/devices", {"kind": "desk", "sip_username": name}, expect=201)
    ringing = old_phone.answer(timeout_s=3)
    time.sleep(SETTLE_S)
    ok(bo_phone.call("1001", expect=480))
    ringing.wait(10)
    assert ringing.received("INVITE") == [], "a reused SIP username rang the former holder's phone"


def test_a_new_sip_password_drops_the_registration(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    anna_phone, bo_phone = phone(e2e, anna), phone(e2e, bo)
    (device,) = org.admin.get(f"/users/{anna.id}/devices")
    org.admin.post(f"/devices/{device['id']}/reset-password", {}, expect=200)
    ringing = anna_phone.answer(timeout_s=3)
    time.sleep(SETTLE_S)
    ok(bo_phone.call("1001", expect=480))
    ringing.wait(10)
    assert ringing.received("INVITE") == [], "the phone with the old password still rang"
    assert anna_phone.register_expect_failure().returncode != 0, "the old password registered again"


def test_a_deleted_user_is_hung_up_and_unregistered(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    anna_phone, bo_phone = phone(e2e, anna), phone(e2e, bo)
    answering = bo_phone.answer(timeout_s=30)
    time.sleep(SETTLE_S)
    call = anna_phone.call("1002", hold_ms=20000, wait=False, timeout_s=30, remote_may_hang_up=True)
    until("Anna and Bo talking", lambda: [c for c in org.admin.get("/calls") if c["bridged"]])
    org.admin.request("DELETE", f"/users/{anna.id}", expect=204)
    ok(call, 10)
    ok(answering, 10)
    assert call.received("BYE"), "Anna's call was hung up by Asterisk"
    assert f"/registrar/contact/{anna.devices[0].sip_username};@" not in _contacts(e2e)
    assert f"/registrar/contact/{bo.devices[0].sip_username};@" in _contacts(e2e)  # only hers
