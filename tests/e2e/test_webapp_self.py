"""The personal menu's own activities and custom settings, the answer group gear, the desk phone /
softphone setup with its QR code, and the call card's "add people" and "move here", in Debian's
chromium on the real stack (SIPp phones, Asterisk, PostgreSQL), in Swedish and English, at 360 px."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import ARTIFACTS, PHONE, Browsers, Tab, app_url, phone_ready, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.webapp]
JSQR = Path(__file__).resolve().parents[2] / "webapp" / "node_modules" / "jsqr" / "dist" / "jsQR.js"


def fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def shot(tab: Tab, part: Locator, name: str) -> None:
    """The whole page (Tab.screenshot) and the screen itself, cut out, to look at."""
    tab.screenshot(name)
    path = ARTIFACTS / f"{name}-part.png"
    for attempt in range(3):
        try:
            part.screenshot(path=str(path))
            break
        except PlaywrightError as exc:
            # a live event re-rendered the part between finding it and taking it: find it again
            if "not attached to the DOM" not in str(exc) or attempt == 2:
                raise
    print(f"screenshot: {path}")


def decoded_qr(page: Page, figure: str) -> str:
    """What the QR code drawn on the canvas says, read back from its pixels by jsQR (a devDependency)."""
    if not page.evaluate("typeof window.jsQR === 'function'"):
        page.add_script_tag(path=str(JSQR))
    text: str = page.evaluate(
        """(sel) => {
          const c = document.querySelector(sel + " canvas");
          const img = c.getContext("2d").getImageData(0, 0, c.width, c.height);
          const code = window.jsQR(img.data, c.width, c.height);
          return code ? code.data : "";
        }""",
        figure,
    )
    return text


def test_own_activity_and_custom_settings(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    org.add_user("1002", "Bo Ek")
    anna_app = app(e2e, anna)
    tab = browsers.open(app_url(e2e))
    page = tab.page
    sign_in(page, anna)
    section = page.get_by_test_id("personal")
    # Both parts are folded (the guide's "Personliga inställningar" menu); a click or Enter opens them.
    expect(section.get_by_label("Namn på aktiviteten")).to_be_hidden()
    section.get_by_role("heading", name="Egna aktiviteter").click()
    page.get_by_test_id("custom-part").locator("summary").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("custom-part")).to_have_attribute("open", "")

    # Create my own activity in the page, by its labels.
    section.get_by_label("Namn på aktiviteten").fill("Kundbesök")
    section.get_by_label("Det inringande hör efter ditt namn").fill("är på kundbesök")
    section.get_by_label("Längd i minuter").fill("90")
    section.get_by_label("Samtalen går till").select_option("forward")
    section.get_by_label("Vidarekoppla till").fill("1002")
    page.get_by_test_id("own-save").click()
    custom = until("the activity in the API", lambda: anna_app.get("/users/me/activities")["custom"])
    assert [
        (c["label"], c["spoken_text"], c["default_minutes"], c["destination"], c["forward_to"])
        for c in custom
    ] == [("Kundbesök", "är på kundbesök", 90, "forward", "1002")]
    aid = custom[0]["id"]
    expect(page.get_by_test_id(f"own-{aid}")).to_contain_text("Kundbesök")

    # Edit it: the form fills in, PATCH changes it.
    page.get_by_role("button", name="Ändra: Kundbesök").click()
    expect(section.get_by_label("Namn på aktiviteten")).to_have_value("Kundbesök")
    section.get_by_label("Namn på aktiviteten").fill("Kundbesök Volvo")
    page.get_by_test_id("own-save").click()
    expect(page.get_by_test_id(f"own-{aid}")).to_contain_text("Kundbesök Volvo")
    assert anna_app.get(f"/users/me/activities/{aid}")["label"] == "Kundbesök Volvo"

    # Set it: the API's presence shows it, and so does the page.
    page.get_by_role("button", name="Sätt: Kundbesök Volvo").click()
    expect(page.get_by_test_id("self-activity")).to_have_attribute("data-custom", str(aid))
    presence = until(
        "Anna's presence",
        lambda: [p for p in org.admin.get(f"/presence?user_id={anna.id}") if p["activity"] == "custom"],
    )[0]
    assert presence["label"] == "Kundbesök Volvo", presence
    assert anna_app.get("/users/me/activity")["custom_activity_id"] == aid
    shot(tab, section, "personal-activities-desktop-sv")

    # Custom settings: forward all to Bo, the phone closed until a date; the API's state follows.
    page.get_by_label("Vidarekoppla alla samtal till").fill("1002")
    page.get_by_test_id("closed").check()
    page.get_by_test_id("closed-until").fill("2027-01-07T08:00")
    page.get_by_test_id("custom-save").click()
    expect(page.get_by_test_id("custom-state")).to_have_attribute("data-closed", "true")
    s = anna_app.get("/users/me/settings")
    assert s["forward_all"] == "1002" and s["closed"] is True
    want = datetime.fromisoformat(
        page.evaluate("new Date('2027-01-07T08:00').toISOString()").replace("Z", "+00:00")
    )
    assert datetime.fromisoformat(s["closed_until"]) == want
    expect(page.get_by_test_id("custom-state")).to_contain_text("Vidarekopplad till 1002")
    shot(tab, section, "personal-custom-settings-desktop-sv")

    # A forward the call policy refuses: the API's own 400 message, nothing changed.
    refused = anna_app.request("PUT", "/users/me/settings", {"forward_all": "0900 123 45 67"}, expect=400)
    page.get_by_label("Vidarekoppla alla samtal till").fill("0900 123 45 67")
    page.get_by_test_id("custom-save").click()
    expect(page.get_by_test_id("custom-status")).to_have_text(refused["error"]["message"])
    assert anna_app.get("/users/me/settings")["forward_all"] == "1002"

    # Switch them off again; an activity until further notice.
    page.get_by_label("Vidarekoppla alla samtal till").fill("")
    page.get_by_test_id("closed").uncheck()
    page.get_by_test_id("custom-save").click()
    expect(page.get_by_test_id("custom-state")).to_have_attribute("data-closed", "false")
    s = anna_app.get("/users/me/settings")
    assert s["forward_all"] is None and s["closed"] is False and s["closed_until"] is None
    page.get_by_test_id("further-activity").select_option("lunch")
    page.get_by_test_id("further-set").click()
    expect(page.get_by_test_id("self-activity")).to_have_attribute("data-activity", "lunch")
    mine = anna_app.get("/users/me/activity")
    assert mine["activity"] == "lunch" and mine["until_further_notice"] is True and mine["until"] is None

    # Delete my activity.
    page.get_by_role("button", name="Ta bort: Kundbesök Volvo").click()
    expect(page.get_by_test_id(f"own-{aid}")).to_have_count(0)
    assert anna_app.get("/users/me/activities")["custom"] == []
    assert tab.errors == [e for e in tab.errors if "400" in e]  # the refused forward's 400, nothing else

    # English, 360 px: the same screen fits.
    small = browsers.open(app_url(e2e), viewport=PHONE, locale="en-GB")
    sign_in(small.page, anna, lang="en")
    small.page.get_by_role("heading", name="Custom settings").click()
    expect(small.page.get_by_label("Forward all calls to")).to_be_visible()
    fits(small.page)
    shot(small, small.page.get_by_test_id("personal"), "personal-360-en")
    assert small.errors == []


def test_group_gear_for_a_group_admin_and_none_for_a_plain_user(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson", devices=0)
    bo = org.add_user("1002", "Bo Ek", devices=0)
    cecilia = org.add_user("1003", "Cecilia Berg", devices=0)
    group = org.admin.post(
        "/groups",
        {
            "extension": "20",
            "name": "Support",
            "members": [
                {"user_id": anna.id, "group_admin": True},
                {"user_id": bo.id},
                {"user_id": cecilia.id},
            ],
        },
        expect=201,
    )
    gid = group["id"]
    tab = browsers.open(app_url(e2e))
    page = tab.page
    sign_in(page, anna)
    page.get_by_role("button", name="Inställningar för svarsgruppen Support").click()
    panel = page.get_by_test_id(f"gear-panel-{gid}")
    expect(panel).to_be_visible()
    bo_row = page.get_by_test_id(f"gear-member-{gid}-{bo.id}")
    expect(bo_row).to_have_attribute("data-logged-in", "false")

    # Log a colleague in: the group's members in the API change.
    page.get_by_role("button", name="Logga in: Bo Ek").click()
    expect(bo_row).to_have_attribute("data-logged-in", "true")
    members = {m["user_id"]: m["logged_in"] for m in org.admin.get(f"/groups/{gid}")["members"]}
    assert members == {anna.id: False, bo.id: True, cecilia.id: False}

    # Live: Cecilia logs in from elsewhere; Anna's open gear shows it without a reload.
    app(e2e, cecilia).post(f"/groups/{gid}/login", {}, expect=200)
    expect(page.get_by_test_id(f"gear-member-{gid}-{cecilia.id}")).to_have_attribute(
        "data-logged-in", "true", timeout=15_000
    )

    # Distribution, where calls go when nobody answers, the external operator; saved with PATCH.
    panel.get_by_label("Fördelning av samtal").select_option("linear")
    panel.get_by_label("Samtalet går till").select_option("voicemail")
    panel.get_by_test_id(f"gear-noanswer-user-{gid}").select_option(str(bo.id))
    panel.get_by_label("Efter sekunder i kön").fill("40")
    panel.get_by_test_id(f"gear-external-{gid}").check()
    panel.get_by_label("Telefonistens nummer").fill("08-123 499 99")
    shot(tab, page.get_by_test_id(f"group-{gid}"), "group-gear-desktop-sv")
    panel.get_by_test_id(f"gear-save-{gid}").click()
    expect(page.get_by_test_id(f"gear-status-{gid}")).to_contain_text("Sparat")
    g = org.admin.get(f"/groups/{gid}")
    assert g["strategy"] == "linear" and g["max_wait"] == 40
    assert (g["overflow"]["kind"], g["overflow"]["user_id"]) == ("voicemail", bo.id)
    assert g["night_destination"] == {
        "kind": "answering_service",
        "number": "+46812349999",
        "user_id": None,
        "group_id": None,
    }
    # The API's 400 is shown as it comes (a premium rate number as the no-answer destination).
    premium = {"overflow": {"kind": "external", "number": "0900 123 45 67"}}
    refused = app(e2e, anna).request("PATCH", f"/groups/{gid}", premium, expect=400)
    panel.get_by_label("Samtalet går till").select_option("external")
    panel.get_by_test_id(f"gear-noanswer-number-{gid}").fill("0900 123 45 67")
    panel.get_by_test_id(f"gear-save-{gid}").click()
    expect(page.get_by_test_id(f"gear-status-{gid}")).to_have_text(refused["error"]["message"])
    assert org.admin.get(f"/groups/{gid}")["overflow"]["kind"] == "voicemail"

    # An operator who does not answer the group: its gear, no button to log in.
    olle = org.add_user("1009", "Olle Operatör", devices=0, role="operator")
    op_tab = browsers.open(app_url(e2e))
    sign_in(op_tab.page, olle)
    expect(op_tab.page.get_by_test_id(f"gear-{gid}")).to_be_visible()
    expect(op_tab.page.get_by_test_id(f"group-toggle-{gid}")).to_have_count(0)
    op_tab.page.get_by_test_id(f"gear-{gid}").press("Enter")  # by keyboard
    op_tab.page.get_by_role("button", name="Logga ut: Bo Ek").click()
    expect(op_tab.page.get_by_test_id(f"gear-member-{gid}-{bo.id}")).to_have_attribute(
        "data-logged-in", "false"
    )
    assert not {m["user_id"]: m["logged_in"] for m in org.admin.get(f"/groups/{gid}")["members"]}[bo.id]
    # ... and Anna's open gear follows live
    expect(bo_row).to_have_attribute("data-logged-in", "false", timeout=15_000)
    assert op_tab.errors == []

    # A plain user of the group sees the group but no gear (English, 360 px).
    small = browsers.open(app_url(e2e), viewport=PHONE, locale="en-GB")
    sign_in(small.page, bo, lang="en")
    expect(small.page.get_by_test_id(f"group-{gid}")).to_be_visible()
    expect(small.page.get_by_test_id(f"gear-{gid}")).to_have_count(0)
    expect(small.page.get_by_role("button", name="Settings of the answer group Support")).to_have_count(0)
    fits(small.page)
    shot(small, small.page.get_by_test_id(f"group-{gid}"), "groups-no-gear-360-en")
    # The group admin's gear at 360 px, in English.
    admin_small = browsers.open(app_url(e2e), viewport=PHONE, locale="en-GB")
    sign_in(admin_small.page, anna, lang="en")
    admin_small.page.get_by_role("button", name="Settings of the answer group Support").click()
    expect(admin_small.page.get_by_label("Distribution of calls")).to_have_value("linear")
    fits(admin_small.page)
    shot(admin_small, admin_small.page.get_by_test_id(f"group-{gid}"), "group-gear-360-en")
    assert [e for e in tab.errors if "400" not in e] == [] and small.errors == [] and admin_small.errors == []


def test_phone_setup_shows_my_account_and_its_qr_code(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    anna_app = app(e2e, anna)
    tab = browsers.open(app_url(e2e))
    page = tab.page
    sign_in(page, anna)
    [desk] = anna_app.get("/users/me/devices")
    assert desk["username"] == anna.devices[0].sip_username
    did = desk["device"]["id"]
    card = page.get_by_test_id(f"setup-{did}")
    expect(card.get_by_test_id("setup-username")).to_have_text(desk["username"])
    expect(card.get_by_test_id("setup-host")).to_have_text(desk["domain"])
    expect(card.get_by_test_id("setup-port")).to_have_text(str(desk["port"]))
    expect(card.get_by_test_id("setup-transport")).to_have_text("UDP")
    figure = card.get_by_test_id("qr")
    expect(figure).to_have_attribute("data-text", desk["setup_uri"])
    assert desk["username"] in desk["setup_uri"]
    expect(figure.locator("canvas")).to_be_visible()
    # Decoded from the canvas pixels: the API's account, with the SIP username and no password.
    assert decoded_qr(page, f"[data-testid=setup-{did}] [data-testid=qr]") == desk["setup_uri"]
    shot(tab, page.get_by_test_id("phone-setup"), "phone-setup-desktop-sv")

    # A new password: shown once, in the QR code too, and a phone registers with it.
    page.get_by_role("button", name="Nytt lösenord").click()
    page.get_by_role("button", name="Ja, gör ett nytt lösenord").click()
    password = card.get_by_test_id("setup-password").inner_text()
    assert len(password) >= 20
    expect(card.get_by_test_id("qr")).to_have_attribute(
        "data-text", desk["setup_uri"].replace(f"{desk['username']}@", f"{desk['username']}:{password}@")
    )
    decoded = decoded_qr(page, f"[data-testid=setup-{did}] [data-testid=qr]")
    assert f":{password}@" in decoded
    ok(e2e.phone(desk["username"], password).register())
    assert password not in str(anna_app.get("/users/me/devices"))

    small = browsers.open(app_url(e2e), viewport=PHONE, locale="en-GB")
    sign_in(small.page, anna, lang="en")
    small.page.get_by_role("heading", name="Set up a desk phone or mobile softphone").wait_for()
    fits(small.page)
    shot(small, small.page.get_by_test_id("phone-setup"), "phone-setup-360-en")
    assert tab.errors == [] and small.errors == []


def test_add_people_to_a_call_from_the_page(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    """Anna's page calls Bo's SIPp phone; "Lägg till personer" 1003 rings Cecilia's SIPp phone and
    all three are in the conference the card lists."""
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson", devices=0)
    bo = org.add_user("1002", "Bo Ek")
    cecilia = org.add_user("1003", "Cecilia Berg")
    anna_app = app(e2e, anna)
    tab = browsers.open(app_url(e2e))
    page = tab.page
    sign_in(page, anna)
    phone_ready(page)
    b_answers = phone(e2e, bo).answer(timeout_s=60)
    c_answers = phone(e2e, cecilia).answer(timeout_s=60)
    time.sleep(SETTLE_S)
    page.get_by_test_id("dial-input").fill("1002")
    page.get_by_test_id("dial-input").press("Enter")
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    call = answered_call(anna_app)
    card = page.get_by_test_id(f"call-{call['id']}")
    card.get_by_role("button", name="Lägg till personer").click()
    card.get_by_label("Vilka").fill("1003")
    card.get_by_role("button", name="Ring in").click()
    expect(page.get_by_test_id("call-notice")).to_have_text("Ringer: 1003")
    # Cecilia's phone rang and answered: three in the conference, as the API and the card show.
    until("Cecilia's phone answered", lambda: c_answers.received("ACK"), 20)
    conference = int(page.get_by_test_id(f"conference-{call['id']}").get_attribute("data-conference") or 0)
    people = until(
        "three in the conference",
        lambda: (
            (r := anna_app.get(f"/conferences/{conference}/participants")["participants"])
            and len(r) == 3
            and r
        ),
        20,
    )
    assert {p["name"] for p in people} == {"Anna Svensson", "Bo Ek", "Cecilia Berg"}
    expect(page.get_by_test_id(f"conference-{call['id']}").get_by_test_id("conference-person")).to_have_count(
        3, timeout=15_000
    )
    shot(tab, card, "call-card-conference-desktop-sv")
    # The host's controls: mute Bo, hang up Cecilia (her phone gets its BYE); Anna and Bo go on.
    by_name = {p["name"]: p for p in people}
    card.get_by_role("button", name="Mikrofon av: Bo Ek").click()
    until(
        "Bo muted",
        lambda: any(
            p["muted"] and p["name"] == "Bo Ek"
            for p in anna_app.get(f"/conferences/{conference}/participants")["participants"]
        ),
    )
    expect(card.locator(f"[data-testid=conference-mute-{by_name['Bo Ek']['id']}]")).to_have_attribute(
        "aria-pressed", "true", timeout=15_000
    )
    card.get_by_role("button", name="Lägg på: Cecilia Berg").click()
    ok(c_answers)
    expect(page.get_by_test_id(f"conference-{call['id']}").get_by_test_id("conference-person")).to_have_count(
        2, timeout=15_000
    )
    assert b_answers.returncode is None
    page.get_by_test_id("phone-hangup").click()  # the host leaves: the conference ends for Bo too
    ok(b_answers)
    assert tab.errors == []


def test_move_the_call_here_from_my_desk_phone(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    """Anna's desk phone (SIPp) calls Bo; the card in her page says "Flytta hit": the page rings,
    answered with `a` it has the call, the desk phone gets a BYE, Bo stays on."""
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    anna_app = app(e2e, anna)
    tab = browsers.open(app_url(e2e), viewport=PHONE)
    page = tab.page
    sign_in(page, anna)
    phone_ready(page)
    b_answers = phone(e2e, bo).answer(timeout_s=60)
    time.sleep(SETTLE_S)
    desk = phone(e2e, anna).call("1002", hold_ms=30000, wait=False, remote_may_hang_up=True, timeout_s=60)
    call = answered_call(anna_app)
    card = page.get_by_test_id(f"call-{call['id']}")
    fits(page)
    shot(tab, card, "call-card-move-here-360-sv")
    card.get_by_role("button", name="Flytta hit").click()
    expect(page.get_by_test_id("incoming")).to_be_visible(timeout=15_000)
    page.keyboard.press("a")
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    ok(desk)  # the desk phone got its BYE
    assert b_answers.returncode is None and not b_answers.received("BYE")  # Bo is still on
    page.get_by_test_id("phone-hangup").click()
    ok(b_answers)
    assert tab.errors == []
