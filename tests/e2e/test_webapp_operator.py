"""The operator view ("Förmedlingsvy") in the browser: a caller waiting in the switchboard group and
the call ringing shown, answered with `a` on the page's softphone, everyone's presence at a glance
(a colleague on a call shows live), and an announced transfer with the guide's keys: `-` starts it
(the caller waits on the lower half), `-` again connects the caller with the colleague and frees
the operator."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import Browsers, app_url, phone_ready, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.calls import SETTLE_S, app, ok, phone
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.webapp]


def test_an_announced_transfer_with_minus_in_the_operator_view(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    olle = org.add_user("1010", "Olle Operatör", devices=0, role="operator")
    cecilia = org.add_user("1003", "Cecilia Berg")
    switchboard = org.admin.post(
        "/groups", {"extension": "20", "name": "Växeln", "members": [{"user_id": olle.id}]}, expect=201
    )
    org.admin.post(f"/groups/{switchboard['id']}/login", {"user_id": olle.id})
    c_answers = phone(e2e, cecilia).answer(answer_after_ms=500, timeout_s=40)
    a = phone(e2e, anna)
    tab = browsers.open(app_url(e2e) + "#operator")
    page = tab.page
    sign_in(page, olle)
    phone_ready(page)
    expect(page.get_by_test_id("operator")).to_contain_text("a svara · t koppla · * direkt · - aviserad")
    annas_tile = page.get_by_test_id(f"op-presence-{anna.id}")
    expect(annas_tile).to_have_attribute("data-call", "idle")

    time.sleep(SETTLE_S)
    call = a.call("20", hold_ms=8000, wait=False, timeout_s=40, remote_may_hang_up=True)
    # Anna waits in the switchboard group while it rings the operator's page.
    queued = page.get_by_test_id("op-queued").locator("li")
    expect(queued).to_have_count(1, timeout=15_000)
    expect(queued).to_contain_text("Växeln")
    expect(page.get_by_test_id("op-incoming").locator("li[data-state=Ringing]")).to_have_count(1)
    expect(page.get_by_test_id("incoming")).to_be_visible()
    tab.screenshot("operator-incoming-desktop-sv")
    page.keyboard.press("a")
    expect(page.get_by_test_id("op-call")).to_have_attribute("data-state", "up", timeout=15_000)
    expect(page.get_by_test_id("op-call")).to_contain_text("Anna Svensson")
    expect(annas_tile).to_have_attribute("data-call", "on_call")  # live, from the call's events
    expect(queued).to_have_count(0)

    page.keyboard.press("-")  # announced: choose the colleague
    expect(page.get_by_test_id("op-transfer")).to_have_attribute("data-mode", "announced")
    page.get_by_test_id("op-target").fill("1003")
    page.get_by_test_id("op-target").press("Enter")
    transfer = page.get_by_test_id("op-transfer")
    expect(transfer).to_have_attribute("data-state", "answered", timeout=20_000)
    expect(page.get_by_test_id("op-held")).to_contain_text("Anna Svensson")  # the lower half
    expect(page.get_by_test_id("op-call")).to_contain_text("Cecilia Berg")
    tab.screenshot("operator-announced-desktop-sv")
    page.keyboard.press("-")  # again: connect Anna with Cecilia
    expect(transfer).to_have_attribute("data-state", "completed")
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "none")  # the operator is free

    ok(call, 40)  # Anna talked to Cecilia, then hung up
    ok(c_answers)
    assert app(e2e, olle).get("/calls") == []
    assert tab.errors == []
