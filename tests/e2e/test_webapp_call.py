"""The Call screen in the browser: one search over colleagues, answer groups and contacts (favorites
first, then Swedish order; a star to make one a favorite), the dial pad, a call from a result; and a
tel: link that calls."""

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


def test_search_favorites_first_in_swedish_order_and_call_a_result(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    bo = org.add_user("1002", "Bo Ek", devices=0)
    cecilia = org.add_user("1003", "Cecilia Berg")
    group = org.admin.post("/groups", {"extension": "20", "name": "Bemanning"}, expect=201)
    bo_app = app(e2e, bo)
    for name, number in (("Östen Beck", "+46701234501"), ("Berit Lund", "+46701234502")):
        bo_app.post("/users/me/contacts", {"name": name, "numbers": [{"number": number}]}, expect=201)
    bo_app.request("PUT", f"/users/me/favorites/users/{cecilia.id}", expect=204)

    tab = browsers.open(app_url(e2e))
    page = tab.page
    sign_in(page, bo)
    results = page.get_by_test_id("results")
    # Nothing typed: my favorites.
    expect(results.locator("li")).to_have_count(1)
    expect(results.locator("li")).to_contain_text("Cecilia Berg")

    page.get_by_test_id("dial-input").fill("be")
    names = results.locator(".who")
    expect(names).to_have_count(4)
    # Starred first, then Swedish order (Ö after z); a colleague, a group and contacts in one list.
    assert [n.split(" ")[0] for n in names.all_inner_texts()] == ["Cecilia", "Bemanning", "Berit", "Östen"]
    expect(page.get_by_test_id(f"result-group-{group['id']}")).to_contain_text("svarsgrupp")
    tab.screenshot("call-screen-search-desktop-sv")
    # Star a contact from the list: she joins the starred ones at the top (alphabetically among them).
    page.get_by_role("button", name="Gör till favorit: Berit Lund").click()
    expect(names.first).to_contain_text("Berit Lund")
    assert [n.split(" ")[0] for n in names.all_inner_texts()] == ["Berit", "Cecilia", "Bemanning", "Östen"]
    assert [i["name"] for i in bo_app.get("/directory?favorites=true")] == ["Berit Lund", "Cecilia Berg"]

    # The dial pad types into the same field.
    page.get_by_test_id("dial-input").fill("")
    for digit in "1003":
        page.locator(f".dialpad [data-digit='{digit}']").click()
    expect(page.get_by_test_id("dial-input")).to_have_value("1003")

    # A result's number calls from the page's softphone.
    phone_ready(page)
    c_answers = phone(e2e, cecilia).answer()
    time.sleep(SETTLE_S)
    page.get_by_test_id("dial-input").fill("cec")
    page.get_by_role("button", name="Ring Cecilia Berg 1003").click()
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    page.get_by_test_id("phone-hangup").click()
    ok(c_answers)
    assert tab.errors == []


def test_a_tel_link_calls_through_the_app(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    """The browser opens the registered handler's address, /?call=<the link>, for a tel: link."""
    org = new_org(platform)
    bo = org.add_user("1002", "Bo Ek", devices=0)
    cecilia = org.add_user("1003", "Cecilia Berg")
    c_answers = phone(e2e, cecilia).answer()
    time.sleep(SETTLE_S)
    tab = browsers.open(app_url(e2e) + "?call=tel%3A10-03")
    page = tab.page
    sign_in(page, bo)  # a new tab signs in first; the link's call waits for it
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    expect(page.get_by_test_id("phone-status")).to_contain_text("Samtal till 1003")
    assert "call=" not in page.url  # a reload does not call again
    page.get_by_test_id("phone-hangup").click()
    ok(c_answers)
    page.get_by_test_id("links").click()  # offers the app as the handler of tel: links
    expect(page.get_by_test_id("links-status")).to_contain_text("tel:")
    assert tab.errors == []
