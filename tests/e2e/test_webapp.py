"""The browser app served by the control service at "/", in Debian's chromium on the real stack:
it signs in through the public API, shows who signed in, in Swedish or English, at 360 px and on a
desktop, with no console errors."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import PHONE, Browsers, app_url, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.provision import PASSWORD, new_org

pytestmark = [pytest.mark.e2e, pytest.mark.webapp]


def test_sign_in_in_swedish_shows_the_user(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    tab = browsers.open(app_url(e2e), locale="sv-SE")
    page = tab.page
    assert page.get_by_role("heading").inner_text() == "Logga in"
    tab.screenshot("signin-desktop-sv")

    page.get_by_label("Användarnamn").fill(anna.username)
    page.get_by_label("Lösenord").fill("not-the-password")
    page.get_by_role("button", name="Logga in").click()
    page.get_by_test_id("signin-error").get_by_text("Fel användarnamn eller lösenord").wait_for()

    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.get_by_test_id("me-name").get_by_text("Anna Svensson").wait_for()
    assert "Anknytning 1001" in page.inner_text("header")
    tab.screenshot("home-desktop-sv")

    # The console shows the failed login's 401 as a resource error; nothing else may be there.
    assert [e for e in tab.errors if "401" not in e] == []

    page.get_by_test_id("signout").click()
    page.get_by_role("heading", name="Logga in").wait_for()


def test_sign_in_in_english_on_a_phone(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    bo = org.add_user("1002", "Bo Ek")
    tab = browsers.open(app_url(e2e), viewport=PHONE, locale="en-GB")
    page = tab.page
    page.get_by_label("Username").fill(bo.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("me-name").get_by_text("Bo Ek").wait_for()
    assert "Extension 1002" in page.inner_text("header")
    # Fits 360 px: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.screenshot("home-360-en")
    page.get_by_role("link", name="Operator view").click()
    page.get_by_role("heading", name="Operator view").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    tab.screenshot("operator-360-en")
    assert tab.errors == []


def test_the_app_is_served_without_a_token(e2e: E2E) -> None:
    import urllib.request

    with urllib.request.urlopen(app_url(e2e)) as r:  # noqa: S310 (http to the test stack)
        body = r.read().decode()
        assert r.status == 200
    assert '<main id="app">' in body and "/assets/" in body


def test_an_activity_set_in_one_browser_shows_in_a_colleagues(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    org.add_user("1003", "Åsa Öberg")
    org.add_user("1004", "Örjan Ahl")
    anna_tab = browsers.open(app_url(e2e))
    bo_tab = browsers.open(app_url(e2e), viewport=PHONE)
    sign_in(anna_tab.page, anna)
    sign_in(bo_tab.page, bo)

    annas_row = bo_tab.page.get_by_test_id(f"presence-{anna.id}")
    expect(annas_row).to_have_attribute("data-activity", "available")
    # Swedish order: Å and Ö after Z, so Anna, Admin ... then Åsa, then Örjan last.
    names = bo_tab.page.locator("[data-testid=presence] .who").all_inner_texts()
    assert [n.split()[0] for n in names][-2:] == ["Åsa", "Örjan"], names
    assert "Bo" not in [n.split()[0] for n in names]  # not myself

    anna_tab.page.get_by_test_id("note").fill("Styrelsemöte, rum 3")
    anna_tab.page.get_by_role("button", name="Möte 2 h").click()
    expect(anna_tab.page.get_by_test_id("my-activity")).to_contain_text("Möte till")

    # Bo's list follows without a reload (a presence.changed event), with the note.
    expect(annas_row).to_have_attribute("data-activity", "meeting", timeout=15_000)
    expect(annas_row).to_contain_text("Styrelsemöte, rum 3")
    bo_tab.screenshot("presence-360-sv")
    anna_tab.screenshot("status-desktop-sv")

    anna_tab.page.get_by_role("button", name="Tillgänglig", exact=True).click()
    expect(annas_row).to_have_attribute("data-activity", "available", timeout=15_000)
    assert anna_tab.errors == [] and bo_tab.errors == []


def test_log_in_and_out_of_an_answer_group(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    group = org.admin.post(
        "/groups", {"extension": "20", "name": "Support", "members": [{"user_id": anna.id}]}, expect=201
    )
    tab = browsers.open(app_url(e2e), locale="en-GB")
    sign_in(tab.page, anna, lang="en")
    row = tab.page.get_by_test_id(f"group-{group['id']}")
    expect(row).to_have_attribute("data-state", "grey")
    expect(row).to_contain_text("logged out")

    row.get_by_role("button", name="Log in").click()
    expect(row).to_have_attribute("data-state", "green")
    member = org.admin.get(f"/groups/{group['id']}")["members"][0]
    assert member["user_id"] == anna.id and member["logged_in"] is True
    tab.screenshot("groups-desktop-en")

    row.get_by_role("button", name="Log out").click()
    expect(row).to_have_attribute("data-state", "grey")
    assert org.admin.get(f"/groups/{group['id']}")["members"][0]["logged_in"] is False
    assert tab.errors == []


def test_a_call_card_hangs_up_with_h_and_parks_with_k(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    """A SIPp call from Anna to Bo's SIPp phone, operated from Bo's browser with the keyboard."""
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    tab = browsers.open(app_url(e2e))
    sign_in(tab.page, bo)

    b_answers = b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=15000, wait=False, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    card = tab.page.get_by_test_id(f"call-{mine['id']}")
    expect(card).to_contain_text("Anna Svensson")
    tab.screenshot("call-card-desktop-sv")
    tab.page.keyboard.press("h")
    ok(call)  # Anna's call ends: Bo hung up from the page
    ok(b_answers)
    expect(card).to_have_count(0)

    b_answers = b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=8000, wait=False, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    tab.page.get_by_test_id(f"call-{mine['id']}").wait_for()
    tab.page.keyboard.press("k")
    expect(tab.page.get_by_test_id("call-notice")).to_have_text("Parkerat på 701")
    ok(b_answers)  # Bo is free
    assert [p["slot"] for p in until("a parked call", lambda: bo_app.get("/calls/parked"))] == ["701"]
    ok(call)
    assert tab.errors == []


def test_an_announced_transfer_with_minus_from_the_page(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    """Anna calls Bo; in Bo's page: type 1003, `-` calls Cecilia (Anna hears music), `-` again connects
    Anna with Cecilia and frees Bo."""
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    cecilia = org.add_user("1003", "Cecilia Berg")
    c_answers = phone(e2e, cecilia).answer(answer_after_ms=500, timeout_s=40)
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    tab = browsers.open(app_url(e2e))
    sign_in(tab.page, bo)
    b_answers = b.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=6000, wait=False, timeout_s=40, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    tab.page.get_by_test_id(f"call-{mine['id']}").wait_for()

    tab.page.get_by_test_id("transfer-to").fill("1003")
    tab.page.get_by_test_id("transfer-to").blur()
    tab.page.keyboard.press("-")
    panel = tab.page.get_by_test_id("transfer")
    expect(panel).to_have_attribute("data-state", "answered", timeout=20_000)
    tab.screenshot("announced-transfer-desktop-sv")
    tab.page.keyboard.press("-")
    expect(panel).to_have_attribute("data-state", "completed")

    ok(b_answers)  # Bo's phone is hung up
    ok(call, 40)  # Anna talks to Cecilia, then hangs up
    ok(c_answers)
    assert bo_app.get("/calls") == []
    assert tab.errors == []


def test_settings_switch_language_and_text_size(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    tab = browsers.open(app_url(e2e))
    sign_in(tab.page, anna)
    page = tab.page
    page.get_by_role("heading", name="Kollegor").wait_for()
    page.get_by_test_id("language").select_option("en")
    page.get_by_role("heading", name="Colleagues").wait_for()
    assert page.get_by_role("heading", name="My status").is_visible()
    before = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    page.get_by_test_id("textsize").select_option("larger")
    after = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(after.removesuffix("px")) > float(before.removesuffix("px"))
    page.reload()  # kept in this browser
    page.get_by_role("heading", name="Colleagues").wait_for()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == after
    tab.screenshot("settings-desktop-en-large")
    assert tab.errors == []


def test_history_lists_a_call_and_filters_missed(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    b_answers = b.answer()
    time.sleep(SETTLE_S)
    ok(a.call("1002", hold_ms=1000))
    ok(b_answers)
    entry = until("Bo's history entry", lambda: bo_app.get("/users/me/history")["items"])[0]
    assert entry["result"] == "answered"

    tab = browsers.open(app_url(e2e), viewport=PHONE)
    sign_in(tab.page, bo)
    row = tab.page.get_by_test_id(f"history-{entry['id']}")
    expect(row).to_contain_text("Anna Svensson")
    expect(row.get_by_role("button", name="Ring upp")).to_be_visible()
    tab.screenshot("history-360-sv")
    tab.page.get_by_role("button", name="Missade").click()
    expect(row).to_have_count(0)  # an answered call is not missed
    tab.page.get_by_role("button", name="Alla").click()
    expect(row).to_have_count(1)
    assert tab.errors == []
