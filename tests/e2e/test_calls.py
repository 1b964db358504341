"""Calls through the real Asterisk, with SIPp phones that register with digest auth."""

from __future__ import annotations

import socket
import time

import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.api import Api
from tests.support.provision import new_org
from tests.support.sipp import SippRun, header

pytestmark = [pytest.mark.e2e, pytest.mark.routing]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed


def agi_sessions(e2e: E2E) -> int:
    return Api(e2e.control.api).get("/health")["agi"]["sessions_total"]


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


def test_internal_call_is_answered_and_routed_by_fastagi(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    before = agi_sessions(e2e)
    answering = callee.answer()
    time.sleep(SETTLE_S)
    call = caller.call("1001")
    assert_ok(call)
    assert answering.wait(10) == 0, answering.explain()
    invite = answering.received("INVITE")[0]
    assert '"Bo Ek"' in (header(invite, "From") or "")  # the caller's name is presented
    assert agi_sessions(e2e) > before  # decided by our handler, not the fallback


def test_all_devices_ring_and_the_first_to_answer_gets_the_call(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna", devices=2)
    bo = org.add_user("1002", "Bo")
    desk = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    mobile = e2e.phone(anna.devices[1].sip_username, anna.devices[1].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    for p in (desk, mobile, caller):
        p.register()
    ringing = desk.ring()
    answering = mobile.answer(answer_after_ms=800)
    time.sleep(SETTLE_S)
    call = caller.call("1001")
    assert_ok(call)
    assert answering.wait(10) == 0, answering.explain()
    assert ringing.wait(10) == 0, ringing.explain()
    assert ringing.received("INVITE") and ringing.received("CANCEL")  # rang, then was cancelled


def test_two_organizations_with_the_same_extension_stay_apart(e2e: E2E, platform: Api) -> None:
    one, two = new_org(platform), new_org(platform)
    one_1001, one_1002 = one.add_user("1001", "One A"), one.add_user("1002", "One B")
    two_1002 = two.add_user("1002", "Two B")
    callee = e2e.phone(one_1002.devices[0].sip_username, one_1002.devices[0].sip_password)
    other = e2e.phone(two_1002.devices[0].sip_username, two_1002.devices[0].sip_password)
    caller = e2e.phone(one_1001.devices[0].sip_username, one_1001.devices[0].sip_password)
    for p in (callee, other, caller):
        p.register()
    answering = callee.answer()
    bystander = other.answer(timeout_s=4)
    time.sleep(SETTLE_S)
    assert_ok(caller.call("1002"))
    assert answering.wait(10) == 0, answering.explain()
    bystander.wait(10)
    assert bystander.received("INVITE") == []


def test_inbound_call_to_a_did_reaches_its_user(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna")
    org.add_number("+46812340001", anna)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    answering = phone.answer()
    time.sleep(SETTLE_S)
    call = e2e.carrier(CARRIER_PORT + 2).call("+46812340001", auth=False, from_user="+46701112233")
    assert_ok(call)
    assert answering.wait(10) == 0, answering.explain()
    assert "+46701112233" in (header(answering.received("INVITE")[0], "From") or "")


def test_outbound_call_leaves_through_the_trunk_with_the_organizations_number(
    e2e: E2E, platform: Api
) -> None:
    org = new_org(platform, main_number="+46812349900")
    anna = org.add_user("1001", "Anna")
    bo = org.add_user("1002", "Bo")
    org.add_number("+46812349901", bo)
    carrier = e2e.carrier()
    for user, expected in ((anna, "+46812349900"), (bo, "+46812349901")):
        phone = e2e.phone(user.devices[0].sip_username, user.devices[0].sip_password)
        phone.register()
        answering = carrier.answer()
        time.sleep(SETTLE_S)
        assert_ok(phone.call("0701234567"))
        assert answering.wait(10) == 0, answering.explain()
        invite = answering.received("INVITE")[0]
        assert invite.startswith("INVITE sip:+46701234567@")
        assert f"sip:{expected}@" in (header(invite, "From") or "")


@pytest.mark.security
def test_premium_and_international_numbers_are_refused_with_403_and_emergency_calls_go_out(
    e2e: E2E, platform: Api
) -> None:
    """The call policy (routing/destinations.py): a device dialling a premium-rate or an
    international number gets 403 and the trunk sees nothing; 112 leaves through the trunk."""
    org = new_org(platform, main_number="+46812349950")
    anna = org.add_user("1001", "Anna")
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    carrier = e2e.carrier()
    answering = carrier.answer(timeout_s=8)
    time.sleep(SETTLE_S)
    for number in ("0900123456", "+46939123456", "+4420794601234", "0044207946012"):
        assert_ok(phone.call(number, expect=403))
    answering.wait(10)
    assert answering.received("INVITE") == [], "a refused number went out through the trunk"
    answering = carrier.answer()
    time.sleep(SETTLE_S)
    assert_ok(phone.call("112"))
    assert answering.wait(10) == 0, answering.explain()
    assert answering.received("INVITE")[0].startswith("INVITE sip:112@")


def test_a_number_that_does_not_exist_gets_404(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna")
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    assert_ok(phone.call("1999", expect=404))
    assert_ok(phone.call("*99", expect=404))
    assert_ok(e2e.carrier(CARRIER_PORT + 2).call("+46899999999", expect=404, auth=False, from_user="+4670"))


def test_a_user_without_a_registered_phone_gets_480_not_silence(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna")
    org.add_user("1002", "Bo")  # has a device, never registers
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    assert_ok(phone.call("1002", expect=480))


def test_a_garbage_fastagi_connection_does_not_stall_routing(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    port = e2e.stack.ports.agi
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"agi_network: yes\nagi_chan")  # half a header, then silence
    garbage = socket.create_connection(("127.0.0.1", port))
    garbage.sendall(b"\x00\xff GET / HTTP/1.1\r\n\r\n" * 50)
    garbage.close()
    socket.create_connection(("127.0.0.1", port)).close()  # connect and close at once
    try:
        before = agi_sessions(e2e)
        answering = callee.answer()
        time.sleep(SETTLE_S)
        assert_ok(caller.call("1001"))
        assert answering.wait(10) == 0, answering.explain()
        assert agi_sessions(e2e) > before
    finally:
        stalled.close()


def test_provisioned_device_registers_at_once(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna", devices=0)
    wrong = e2e.phone(f"{org.slug}_1001_1", "not-yet-a-device-pw")
    assert wrong.register_expect_failure().returncode != 0  # no such account yet
    device = org.add_device(anna, kind="mobile")
    phone = e2e.phone(device.sip_username, device.sip_password)
    phone.register()  # no reload, no restart
    contacts = e2e.stack.asterisk_instance().cli("pjsip show contacts")
    assert device.sip_username in contacts


def test_calls_still_ring_when_the_control_service_is_down(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna", devices=2), org.add_user("1002", "Bo")
    desk = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    mobile = e2e.phone(anna.devices[1].sip_username, anna.devices[1].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    for p in (desk, mobile, caller):
        p.register()
    e2e.control.stop()
    try:
        ringing = mobile.ring()
        answering = desk.answer(answer_after_ms=500)
        time.sleep(SETTLE_S)
        assert_ok(caller.call("1001"))
        assert answering.wait(10) == 0, answering.explain()
        assert ringing.wait(10) == 0 and ringing.received("INVITE"), ringing.explain()
        assert_ok(caller.call("1999", expect=404))  # unknown numbers still get a clear answer
    finally:
        e2e.control.start()


def test_calls_still_ring_when_the_control_service_is_frozen(e2e: E2E, platform: Api) -> None:
    """The service accepts the FastAGI connection but never answers: the dialplan's guard gives up
    after PBX_AGI_GUARD_S and rings from the database."""
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    answering = callee.answer()
    time.sleep(SETTLE_S)
    e2e.control.freeze()
    try:
        call = caller.call("1001")
    finally:
        e2e.control.thaw()
    assert_ok(call)
    assert answering.wait(10) == 0, answering.explain()
