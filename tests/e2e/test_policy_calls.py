"""The call policy on real calls (Asterisk, SIPp phones, SIPp as the carrier): what an admin allows
goes out, the most concurrent outside calls per organization and the longest call hold."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import answered_call, app
from tests.support.provision import new_org
from tests.support.sipp import SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.routing, pytest.mark.security]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


def wait_for(what: str, check: Callable[[], object], timeout_s: float = 8) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_an_admin_allows_international_numbers_and_they_go_out(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, main_number="+46812349960")
    anna = org.add_user("1001", "Anna")
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    assert_ok(phone.call("+4420794601234", expect=403))  # the default refuses
    org.admin.request("PUT", "/call-policy", {"dial": ["national", "mobile", "international"]}, expect=200)
    answering = e2e.carrier().answer()
    time.sleep(SETTLE_S)
    assert_ok(phone.call("+4420794601234"))
    assert answering.wait(10) == 0, answering.explain()
    assert answering.received("INVITE")[0].startswith("INVITE sip:+4420794601234@")
    assert_ok(phone.call("0900123456", expect=403))  # premium is still refused


def test_beyond_the_most_concurrent_outside_calls_a_call_is_refused_and_the_first_goes_on(
    e2e: E2E, platform: Api
) -> None:
    org = new_org(platform, main_number="+46812349970")
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    org.admin.request("PUT", "/call-policy", {"max_outside_calls": 1}, expect=200)
    first = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    second = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    first.register()
    second.register()
    carrier = e2e.carrier()
    answering = carrier.answer(timeout_s=15)
    time.sleep(SETTLE_S)
    going = first.call("0701234567", hold_ms=2500, wait=False)
    wait_for("the first call's INVITE at the carrier", lambda: answering.received("INVITE"))
    assert_ok(second.call("0701234568", expect=403))
    assert going.wait(15) == 0, going.explain()  # the first call went on, and ended by its own BYE
    assert going.sent("BYE") and not going.received("BYE")
    assert answering.wait(10) == 0, answering.explain()
    assert len(answering.received("INVITE")) == 1
    # The first one over, the next call goes out again.
    answering = carrier.answer()
    time.sleep(SETTLE_S)
    assert_ok(second.call("0701234568"))
    assert answering.wait(10) == 0, answering.explain()


def test_an_outside_call_transferred_on_to_a_colleague_still_counts(e2e: E2E, platform: Api) -> None:
    """The count is of the trunk legs themselves: the one who placed the call leaving (a blind
    transfer to a colleague) does not free its place."""
    org = new_org(platform, main_number="+46812349990")
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    org.admin.request("PUT", "/call-policy", {"max_outside_calls": 1}, expect=200)
    a = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    b = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    a.register()
    b.register()
    carrier = e2e.carrier().answer(timeout_s=20)
    b_answers = b.answer(timeout_s=20)
    time.sleep(SETTLE_S)
    placed = a.call("0701234567", hold_ms=10000, wait=False, remote_may_hang_up=True, timeout_s=20)
    anna_app, bo_app = app(e2e, anna), app(e2e, bo)
    anna_app.post("/calls/transfer", {"call": answered_call(anna_app)["id"], "to": "1002"}, expect=204)
    assert placed.wait(15) == 0, placed.explain()  # Anna is free: Asterisk ended her leg
    mine = answered_call(bo_app)  # the outside party talks to Bo now
    assert_ok(a.call("0701234568", expect=403))  # its trunk leg still holds the one place
    bo_app.post("/calls/hangup", {"call": mine["id"]}, expect=204)
    assert b_answers.wait(10) == 0, b_answers.explain()
    assert carrier.wait(10) == 0, carrier.explain()
    invites = [m.split("\n", 1)[0] for m in carrier.received("INVITE")]  # and re-INVITEs (transfer)
    assert invites and not [i for i in invites if "+46701234568" in i], invites


def test_a_call_longer_than_the_longest_call_is_ended(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, main_number="+46812349980")
    anna = org.add_user("1001", "Anna")
    org.admin.request("PUT", "/call-policy", {"max_call_seconds": 2}, expect=200)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    answering = e2e.carrier().answer(timeout_s=15)
    time.sleep(SETTLE_S)
    started = time.monotonic()
    call = phone.call("0701234567", hold_ms=10000, remote_may_hang_up=True, timeout_s=15)
    elapsed = time.monotonic() - started
    assert_ok(call)
    assert call.received("BYE"), "Asterisk did not end the call"
    assert elapsed < 6, f"the call lasted {elapsed:.1f} s with a limit of 2 s"
    assert answering.wait(10) == 0, answering.explain()
    assert answering.received("BYE")  # the trunk leg was hung up too
