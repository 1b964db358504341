"""The web app's people screens in Debian's chromium on the real stack: visual voicemail (a message
left by a SIPp caller, shown live, played in the page, downloaded, marked played, VIP and block, deleted),
the Favorites and VIP page (Swedish order, presence, a star toggled in the page) and the contact card
(its VIP, block and favorite toggles change the API's lists). The API's state is asserted after each
action; screenshots of each screen, on a desktop and at 360 px, in Swedish and English."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import E2E
from tests.e2e.test_voicemail_visual import _leave_message
from tests.e2e.webapp_browser import ARTIFACTS, DESKTOP, PHONE, Browsers, Tab, app_url, phone_ready, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.calls import SETTLE_S, app, ok, until
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import User, new_org
from tests.support.sipp import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.webapp]

# SIPp phones from base+4900 (media at SIP + 10000), clear of the other e2e files' ranges.
_ports = itertools.count(TEST_PORT_BASE + 4900, 10)


def _phone(e2e: E2E, user: User, n: int) -> Phone:
    d = user.devices[n]
    return Phone(d.sip_username, d.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def _shot(target: Locator, name: str) -> None:
    """One screen (a section, or the card dialog) alone, beside the whole page's screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    target.screenshot(path=str(path))
    print(f"screenshot: {path}")


def _shots(tab: Tab, screen: Locator, name: str, lang: str) -> None:
    """The screen on a desktop and at 360 px wide (nothing wider than the phone)."""
    page = tab.page
    for size, label in ((DESKTOP, "desktop"), (PHONE, "360")):
        page.set_viewport_size(size)
        if size == PHONE:
            _fits(page)
        tab.screenshot(f"{name}-page-{label}-{lang}")
        _shot(screen, f"{name}-{label}-{lang}")
    page.set_viewport_size(DESKTOP)


def _callers(api: Api) -> set[tuple[str, str]]:
    return {(e["number"], e["kind"]) for e in api.get("/users/me/caller-lists")}


def test_a_voicemail_arrives_live_is_played_marked_played_and_deleted_in_the_page(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform, prefix="wvm")
    vera = org.add_user("1501", "Vera Voicemail", devices=0)
    anna = org.add_user("1502", "Anna Caller", devices=2)
    vera_api = app(e2e, vera)
    vera_api.request("PUT", "/users/me/settings", {"closed": True}, expect=200)  # callers go to voicemail
    box = e2e.stack.asterisk_instance().spool_dir / "voicemail" / org.slug / vera.extension
    until("Vera's default greeting", lambda: (box / "unavail.wav").exists(), 30)

    tab = browsers.open(app_url(e2e), permissions=("notifications",))
    page = tab.page
    sign_in(page, vera)
    section = page.get_by_test_id("voicemail-section")
    expect(section.get_by_test_id("vm-summary")).to_have_text("Inga röstmeddelanden")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "open")

    caller = _phone(e2e, anna, 1)  # leaves it
    caller.register()
    run = _leave_message(caller, vera.extension)
    assert run.wait(60) == 0, run.explain()
    m: dict[str, Any] = until(
        "the message listed", lambda: (vera_api.get("/users/me/voicemail")["messages"] or [None])[0], 30
    )
    assert (m["caller_number"], m["played"]) == ("1502", False)

    # Live, without a reload, with the browser's own notification.
    row = page.get_by_test_id(f"vm-{m['id']}")
    expect(row).to_have_attribute("data-played", "false", timeout=10_000)
    expect(row).to_contain_text("Anna Caller")
    expect(section.get_by_test_id("vm-summary")).to_have_text("1 nya · 0 uppspelade")
    page.wait_for_function(
        "document.documentElement.dataset.lastVoicemailNotification === 'Anna Caller (1502)'", timeout=5_000
    )

    # Call back from the message: the page's softphone calls Anna, who answers.
    phone_ready(page)
    answering = _phone(e2e, anna, 0)  # her other phone
    answering.register()
    anna_answers = answering.answer()
    time.sleep(SETTLE_S)
    row.get_by_role("button", name="Ring upp Anna Caller 1502").click()
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    expect(page.get_by_test_id("phone-status")).to_contain_text("1502")
    page.get_by_test_id("phone-hangup").click()
    ok(anna_answers)

    # Listen: the audio (fetched with the token) plays in the page's <audio>.
    with page.expect_response(lambda r: r.url.endswith(f"/messages/{m['id']}/audio")) as audio_response:
        row.get_by_role("button", name="Lyssna").click()
    assert audio_response.value.status == 200
    assert audio_response.value.headers["content-type"].startswith("audio/")
    audio = page.get_by_test_id(f"vm-audio-{m['id']}")
    expect(audio).to_be_visible()
    page.wait_for_function(
        f"document.querySelector('[data-testid=\"vm-audio-{m['id']}\"]').currentTime > 0.5", timeout=10_000
    )
    assert page.evaluate(f"document.querySelector('[data-testid=\"vm-audio-{m['id']}\"]').duration") > 3

    # Download: the WAV with the API's file name.
    with page.expect_download() as download:
        row.get_by_role("button", name="Ladda ner").click()
    assert download.value.suggested_filename.endswith("-from-1502.wav")
    assert download.value.suggested_filename.startswith("voicemail-")

    # VIP, then block (which replaces the VIP entry): the API's caller lists follow.
    row.get_by_test_id(f"vm-vip-{m['id']}").click()
    until("VIP in the API", lambda: _callers(vera_api) == {("1502", "vip")}, 5)
    expect(row.get_by_test_id(f"vm-vip-{m['id']}")).to_have_attribute("aria-pressed", "true")
    row.get_by_test_id(f"vm-blocked-{m['id']}").click()
    until("blocked in the API", lambda: _callers(vera_api) == {("1502", "blocked")}, 5)
    expect(row.get_by_test_id(f"vm-vip-{m['id']}")).to_have_attribute("aria-pressed", "false")
    expect(row.get_by_test_id(f"vm-blocked-{m['id']}")).to_have_attribute("aria-pressed", "true")

    # The caller's contact card from the message: a colleague, with presence.
    row.get_by_test_id(f"vm-card-{m['id']}").click()
    card = page.get_by_test_id("contact-card")
    expect(card).to_be_visible()
    expect(card.get_by_role("heading", name="Anna Caller")).to_be_visible()
    expect(card.get_by_test_id("card-presence")).to_have_attribute("data-activity", "available")
    expect(card.get_by_test_id("card-blocked")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    _shots(tab, section, "voicemail", "sv")

    # The same box in English (Settings' language), on a phone; then back to Swedish.
    page.get_by_test_id("language").select_option("en")
    row = page.get_by_test_id(f"vm-{m['id']}")
    section = page.get_by_test_id("voicemail-section")
    expect(row.get_by_role("button", name="Listen")).to_be_visible()
    expect(row.get_by_role("button", name="Mark as played")).to_be_visible()
    expect(section.get_by_test_id("vm-summary")).to_have_text("1 new · 0 played")
    page.set_viewport_size(PHONE)
    _fits(page)
    tab.screenshot("voicemail-page-360-en")
    _shot(section, "voicemail-360-en")
    page.set_viewport_size(DESKTOP)
    page.get_by_test_id("language").select_option("sv")
    row = page.get_by_test_id(f"vm-{m['id']}")
    expect(row.get_by_role("button", name="Lyssna")).to_be_visible()

    # The card from the history (read again by the redraw): the message's row, Anna still blocked.
    left = until(
        "the message in the history",
        lambda: [
            h
            for h in vera_api.get("/users/me/history?filter=voicemail")["items"]
            if h["peer_number"] == "1502"
        ],
    )
    opener = page.get_by_test_id(f"history-{left[0]['id']}").get_by_role(
        "button", name="Visa kontaktkort: Anna Caller"
    )
    opener.click()
    expect(card.get_by_role("heading", name="Anna Caller")).to_be_visible()
    expect(card.get_by_test_id("card-blocked")).to_have_attribute("aria-pressed", "true")
    card.get_by_role("button", name="Stäng").click()
    expect(card).to_be_hidden()
    expect(opener).to_be_focused()  # the focus goes back where it was
    # Lyssna on the history's row plays the message it left, in the voicemail list.
    page.get_by_test_id(f"history-{left[0]['id']}").get_by_role("button", name="Lyssna").click()
    expect(page.get_by_test_id(f"vm-listen-{m['id']}")).to_be_focused()
    page.wait_for_function(
        f"!document.querySelector('[data-testid=\"vm-audio-{m['id']}\"]').paused", timeout=10_000
    )

    # Mark played, by keyboard: the API says played, the row follows.
    played = row.get_by_test_id(f"vm-played-{m['id']}")
    played.focus()
    page.keyboard.press("Enter")
    expect(row).to_have_attribute("data-played", "true")
    assert vera_api.get(f"/users/me/voicemail/messages/{m['id']}")["played"] is True
    expect(row.get_by_test_id(f"vm-played-{m['id']}")).to_have_text("Markera som nytt")

    # Delete: gone from the page and from the API (and from Asterisk's box).
    row.get_by_role("button", name="Ta bort").click()
    expect(row).to_have_count(0)
    expect(section.get_by_test_id("vm-summary")).to_have_text("Inga röstmeddelanden")
    assert vera_api.get("/users/me/voicemail")["messages"] == []
    assert vera_api.get(f"/users/me/voicemail/messages/{m['id']}", check=False) is not None
    assert vera_api.last_status == 404
    assert tab.errors == []


def test_favorites_in_swedish_order_with_presence_and_a_star_toggled_in_the_page(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform, prefix="wfav")
    mia = org.add_user("1601", "Mia Main", devices=0)
    users = {
        n: org.add_user(ext, n, devices=0)
        for ext, n in (
            ("1602", "Örjan Öst"),
            ("1603", "Åsa Ål"),
            ("1604", "Zorro Zetterlund"),
            ("1605", "Ärla Äng"),
            ("1606", "Anders Berg"),
        )
    }
    mia_api = app(e2e, mia)
    for n in ("Örjan Öst", "Åsa Ål", "Zorro Zetterlund"):
        mia_api.request("PUT", f"/users/me/favorites/users/{users[n].id}", expect=204)
    contact = mia_api.post(
        "/users/me/contacts", {"name": "Östen Kund", "numbers": [{"number": "070-111 22 33"}]}, expect=201
    )
    mia_api.request("PUT", f"/contacts/{contact['id']}/marks", {"vip": True}, expect=200)
    mia_api.post("/users/me/caller-lists", {"number": "+46709998877", "kind": "vip"}, expect=201)
    mia_api.post("/users/me/caller-lists", {"number": "08-555 666 77", "kind": "blocked"}, expect=201)

    tab = browsers.open(app_url(e2e), locale="en-GB")
    page = tab.page
    sign_in(page, mia, lang="en")
    section = page.get_by_test_id("favorites-section")
    favs = section.get_by_test_id("fav-list").locator("li")

    def names() -> list[str]:
        return [favs.nth(i).get_attribute("data-name") or "" for i in range(favs.count())]

    # Swedish order: ... Z, Å, Ä, Ö (a VIP contact is on the page too).
    expect(favs).to_have_count(4)
    assert names() == ["Zorro Zetterlund", "Åsa Ål", "Örjan Öst", "Östen Kund"]
    vip_list = section.get_by_test_id("vip-list")
    expect(vip_list.locator("li[data-number='+46709998877']")).to_be_visible()
    expect(vip_list.locator("li[data-number='+46701112233']")).to_contain_text("Östen Kund")
    expect(section.get_by_test_id("blocked-list").locator("li[data-number='+46855566677']")).to_be_visible()

    # Colleagues' presence, live.
    asa = users["Åsa Ål"]
    presence = section.get_by_test_id(f"fav-presence-{asa.id}")
    expect(presence).to_have_attribute("data-activity", "available")
    app(e2e, asa).request(
        "PUT",
        "/users/me/activity",
        {"activity": "lunch", "duration_minutes": 60, "note": "Tillbaka 13"},
        expect=200,
    )
    expect(presence).to_have_attribute("data-activity", "lunch", timeout=5_000)
    expect(presence).to_contain_text("Tillbaka 13")

    # Star Ärla from the list of all colleagues, by keyboard: the API has her, in her place.
    section.get_by_test_id("fav-all").locator("summary").click()
    arla = users["Ärla Äng"]
    star = section.get_by_test_id("fav-all").get_by_role("button", name="Star Ärla Äng")
    star.focus()
    page.keyboard.press("Enter")
    expect(favs).to_have_count(5)
    assert names() == ["Zorro Zetterlund", "Åsa Ål", "Ärla Äng", "Örjan Öst", "Östen Kund"]
    starred = {(i["kind"], i["id"]) for i in mia_api.get("/directory?favorites=true")}
    assert ("user", arla.id) in starred

    # Unstar Zorro on the favorites list.
    zorro = users["Zorro Zetterlund"]
    section.get_by_test_id("fav-list").get_by_test_id(f"fav-star-user-{zorro.id}").click()
    expect(favs).to_have_count(4)
    assert names() == ["Åsa Ål", "Ärla Äng", "Örjan Öst", "Östen Kund"]
    starred = {(i["kind"], i["id"]) for i in mia_api.get("/directory?favorites=true")}
    assert ("user", zorro.id) not in starred and ("user", arla.id) in starred
    section.scroll_into_view_if_needed()
    _shots(tab, section, "favorites", "en")

    # The card from the favorites page, in English: Åsa's lunch and note.
    section.get_by_test_id("fav-list").get_by_role("button", name="Show contact card: Åsa Ål").click()
    card = page.get_by_test_id("contact-card")
    expect(card.get_by_test_id("card-presence")).to_have_attribute("data-activity", "lunch")
    expect(card.get_by_test_id("card-presence")).to_contain_text("Lunch until")
    expect(card.get_by_test_id("card-note")).to_have_text("Tillbaka 13")
    expect(card.get_by_test_id("card-favorite")).to_have_attribute("aria-pressed", "true")
    _shot(card, "contact-card-colleague-desktop-en")
    page.get_by_role("button", name="Close").click()
    expect(card).to_be_hidden()
    assert tab.errors == []


def test_a_contact_cards_vip_block_and_favorite_toggles_change_the_apis_lists(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform, prefix="wcard")
    cia = org.add_user("1701", "Cia Card", devices=0)
    bo = org.add_user("1702", "Bo Ek", devices=0)
    cia_api = app(e2e, cia)
    berit = cia_api.post(
        "/users/me/contacts",
        {
            "name": "Berit Lund",
            "company": "Lunds Bageri",
            "note": "Ring efter 10",
            "numbers": [{"number": "070-123 45 67", "label": "mobile"}, {"number": "08-123 456 78"}],
        },
        expect=201,
    )
    app(e2e, bo).request(
        "PUT",
        "/users/me/activity",
        {"activity": "meeting", "duration_minutes": 60, "note": "Rum 3"},
        expect=200,
    )

    tab = browsers.open(app_url(e2e), viewport=PHONE)
    page = tab.page
    sign_in(page, cia)
    card = page.get_by_test_id("contact-card")

    # From the search: Berit's card, her note and both numbers as call buttons.
    page.get_by_test_id("dial-input").fill("Berit")
    page.get_by_role("button", name="Visa kontaktkort: Berit Lund").click()
    expect(card).to_be_visible()
    expect(card.get_by_test_id("card-note")).to_have_text("Ring efter 10")
    expect(card.get_by_role("button", name="Berit Lund: Ring +46701234567")).to_be_visible()
    expect(card.get_by_role("button", name="Berit Lund: Ring +46812345678")).to_be_visible()
    _fits(page)
    _shot(card, "contact-card-360-sv")
    tab.screenshot("contact-card-page-360-sv")

    # VIP: both numbers in my caller lists, from the contact; then block replaces it.
    card.get_by_test_id("card-vip").click()
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "true")
    assert _callers(cia_api) == {("+46701234567", "vip"), ("+46812345678", "vip")}
    assert {e["contact_id"] for e in cia_api.get("/users/me/caller-lists")} == {berit["id"]}
    blocked = card.get_by_test_id("card-blocked")
    blocked.focus()
    page.keyboard.press("Space")
    expect(card.get_by_test_id("card-blocked")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "false")
    assert _callers(cia_api) == {("+46701234567", "blocked"), ("+46812345678", "blocked")}
    assert cia_api.get(f"/contacts/{berit['id']}")["blocked"] is True
    card.get_by_test_id("card-blocked").click()
    expect(card.get_by_test_id("card-blocked")).to_have_attribute("aria-pressed", "false")
    assert _callers(cia_api) == set()
    card.get_by_test_id("card-favorite").click()
    expect(card.get_by_test_id("card-favorite")).to_have_attribute("aria-pressed", "true")
    assert cia_api.get(f"/contacts/{berit['id']}")["favorite"] is True
    card.get_by_role("button", name="Stäng").click()
    expect(card).to_be_hidden()

    # A colleague's card: presence and note; VIP goes in the caller list as the extension.
    page.get_by_test_id("dial-input").fill("Bo")
    page.get_by_role("button", name="Visa kontaktkort: Bo Ek").click()
    expect(card.get_by_test_id("card-presence")).to_have_attribute("data-activity", "meeting")
    expect(card.get_by_test_id("card-note")).to_have_text("Rum 3")
    card.get_by_test_id("card-vip").click()
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "true")
    assert _callers(cia_api) == {("1702", "vip")}
    card.get_by_test_id("card-favorite").click()
    expect(card.get_by_test_id("card-favorite")).to_have_attribute("aria-pressed", "true")
    assert ("user", bo.id) in {(i["kind"], i["id"]) for i in cia_api.get("/directory?favorites=true")}
    page.set_viewport_size(DESKTOP)
    _shot(card, "contact-card-colleague-desktop-sv")
    page.screenshot(
        path=str(ARTIFACTS / "contact-card-page-desktop-sv.png")
    )  # the viewport: the modal over the page
    card.get_by_test_id("card-vip").click()
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "false")
    assert _callers(cia_api) == set()
    page.keyboard.press("Escape")
    expect(card).to_be_hidden()
    favorites = page.get_by_test_id("favorites-section")
    expect(favorites.get_by_test_id("fav-list").locator("li")).to_have_count(2)  # Berit and Bo, starred above
    page.set_viewport_size(PHONE)
    _shot(favorites, "favorites-360-sv")

    # A number nobody has (a VIP number here; from the history or a message alike): its card saves it
    # to my phonebook, and it is a contact from then on.
    cia_api.post("/users/me/caller-lists", {"number": "0709998877", "kind": "vip"}, expect=201)
    page.reload()
    page.get_by_test_id("me-name").wait_for()
    page.get_by_test_id("vip-list").get_by_role("button", name="Visa kontaktkort: +46709998877").click()
    expect(card).to_have_attribute("data-kind", "number")
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "true")
    card.get_by_label("Namn").fill("Kalle Kund")
    card.get_by_role("button", name="Spara i telefonboken").click()
    expect(card).to_have_attribute("data-kind", "contact")
    expect(card.get_by_role("heading", name="Kalle Kund")).to_be_visible()
    saved = [c for c in cia_api.get("/users/me/contacts") if c["name"] == "Kalle Kund"]
    assert [n["number"] for n in saved[0]["numbers"]] == ["+46709998877"]
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "true")
    card.get_by_test_id("card-vip").click()  # off: the number's own entry goes too
    expect(card.get_by_test_id("card-vip")).to_have_attribute("aria-pressed", "false")
    assert _callers(cia_api) == set()
    assert tab.errors == []
