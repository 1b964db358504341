"""The app's own softphone (webapp/src/phone.js over JsSIP, the app's Vite build served at "/") in
Debian's Chromium: signed in, the page registers with the user's web device, calls a SIPp phone from
the Call screen (the call card's keypad reaches the phone) and rings for one (the incoming call
screen and the browser's notification, answered with `a`); media flows both ways (the page shows its
RTCPeerConnection's packet counts, and the phone's RTP port counts the page's); the sound test in
Settings reaches the echo test."""

from __future__ import annotations

import re
import threading

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import Browsers, Tab, app_url, phone_ready, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import until
from tests.support.provision import User, new_org
from tests.support.rtp import RtpListener, with_media

pytestmark = [pytest.mark.e2e, pytest.mark.webapp, pytest.mark.webphone]


def _signed_in(e2e: E2E, browsers: Browsers, user: User, permissions: tuple[str, ...] = ()) -> Tab:
    tab = browsers.open(app_url(e2e), permissions=permissions)
    sign_in(tab.page, user)
    phone_ready(tab.page)
    return tab


def _inbound(page: Page) -> int:
    return int(page.get_by_test_id("phone-audio").get_attribute("data-inbound") or 0)


def _rising(page: Page, what: str) -> None:
    first = until(f"{what}: first inbound packets", lambda: _inbound(page))
    until(f"{what}: inbound packets rising", lambda: _inbound(page) > first + 10)
    expect(page.get_by_test_id("phone-audio")).to_have_attribute("data-pair", "succeeded")


def _asterisk_media(sdp: str) -> tuple[str, int]:
    conn = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
    media = re.search(r"^m=audio (\d+)", sdp, re.M)
    assert conn and media, sdp
    return conn.group(1), int(media.group(1))


def test_the_page_calls_a_phone_with_audio_both_ways(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson", devices=0)
    bo = org.add_user("1002", "Bo Ek")
    tab = _signed_in(e2e, browsers, anna)
    page = tab.page
    phone = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    phone.register()
    with RtpListener() as rtp:
        ringing = phone._start(with_media(sipp_scenarios.answer(200), rtp.port), "answer", remote=False)
        page.get_by_test_id("dial-input").fill("1002")
        page.get_by_test_id("dial-call").click()
        invite = until("the phone's INVITE", lambda: ringing.received("INVITE"))[0]
        until("the page's audio at the phone", lambda: rtp.count() > 20)  # page -> phone
        expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed")
        host, port = _asterisk_media(invite)
        sender = threading.Thread(target=rtp.send_audio, args=(host, port, 150))
        sender.start()
        _rising(page, "phone -> page")  # the page's RTCPeerConnection inbound-rtp
        sender.join()
        # The keypad on the call card: the keys reach the phone (RFC 4733 events on its RTP port).
        card = page.locator("[data-testid=calls] li.call")
        expect(card).to_have_count(1)
        card.get_by_role("button", name="Knappsats").click()
        for key in "123#":
            card.locator(f"[data-digit='{key}']").click()
        until("the keys at the phone", lambda: rtp.digits == "123#", 5)
        tab.screenshot("webphone-call-desktop-sv")
        page.get_by_test_id("phone-hangup").click()
        assert ringing.wait(15) == 0, ringing.explain()
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "none")
    assert tab.errors == []


def test_a_phone_rings_the_page_and_a_answers(e2e: E2E, platform: Api, browsers: Browsers) -> None:
    org = new_org(platform)
    cia = org.add_user("1003", "Cia Lund", devices=0)
    dan = org.add_user("1004", "Dan Ek")
    tab = _signed_in(e2e, browsers, cia, permissions=("notifications", "microphone"))
    expect(tab.page.get_by_test_id("notifications")).to_have_text("Notiser på")
    page = tab.page
    phone = e2e.phone(dan.devices[0].sip_username, dan.devices[0].sip_password)
    phone.register()
    with RtpListener() as rtp:
        run = phone.call("1003", hold_ms=8000, media_port=rtp.port, wait=False)
        incoming = page.get_by_test_id("incoming")
        expect(incoming).to_be_visible(timeout=15_000)
        expect(incoming).to_contain_text("1004")
        expect(incoming.get_by_role("button", name="Svara")).to_be_visible()
        tab.screenshot("incoming-call-desktop-sv")
        # The browser's own notification was shown too.
        expect(page.locator("html")).to_have_attribute("data-last-notification", re.compile("1004"))
        page.keyboard.press("a")
        expect(incoming).to_be_hidden()
        expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed")
        until("the page's audio at the phone", lambda: rtp.count() > 20)
        assert run.wait(30) == 0, run.explain()  # Dan hangs up after 8 s of talking
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "none")
    assert tab.errors == []


def test_the_sound_test_in_settings_returns_the_pages_audio(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    eva = org.add_user("1005", "Eva Berg", devices=0)
    tab = _signed_in(e2e, browsers, eva)
    page = tab.page
    # default + the fake mic (the list fills once the page may use the microphone: wait for it)
    expect(page.get_by_test_id("audio-input").locator("option").nth(1)).to_be_attached()
    page.get_by_test_id("echo-test").click()
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "confirmed", timeout=15_000)
    _rising(page, "echo")
    page.get_by_test_id("phone-hangup").click()
    expect(page.get_by_test_id("phone")).to_have_attribute("data-call", "none")
    tab.screenshot("settings-sound-test-desktop-sv")
    assert tab.errors == []
