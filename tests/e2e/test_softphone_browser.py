"""The softphone in the page (webapp/src/softphone.js over JsSIP) in Debian's Chromium: it registers
over SIP/WebSocket, calls a SIPp phone and rings for one, and media flows both ways (the page's
RTCPeerConnection statistics and the phone's RTP port count the packets); the echo test answers."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.e2e.conftest import E2E
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import app, until
from tests.support.provision import User, new_org
from tests.support.rtp import RtpListener, with_media
from tests.support.webphone_bundle import build_bundle

pytestmark = [pytest.mark.e2e, pytest.mark.webapp, pytest.mark.webphone]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",
]
PAGE = """<!doctype html><meta charset="utf-8"><title>softphone</title>
<script src="bundle.js"></script>
<script>
window.events = [];
window.start = async (account) => {
  window.phone = new Softphone(JsSIP, account, {
    onState: (s) => window.events.push(s),
    onIncoming: (from) => window.events.push("incoming:" + from),
  });
  await window.phone.register();
};
</script>"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("webphone-site")
    build_bundle(root / "bundle.js")
    (root / "index.html").write_text(PAGE)
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def _page(e2e: E2E, browser: Browser, site: str, user: User) -> Page:
    account = app(e2e, user).post("/users/me/webphone", {})
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(site)
    page.evaluate("(a) => window.start(a)", account)
    assert errors == []
    return page


def _inbound(page: Page) -> int:
    return int(page.evaluate("async () => (await window.phone.stats()).inboundPackets"))


def _rising(page: Page, what: str) -> None:
    first = until(f"{what}: first inbound packets", lambda: _inbound(page))
    until(f"{what}: inbound packets rising", lambda: _inbound(page) > first + 10)
    assert page.evaluate("async () => (await window.phone.stats()).candidatePair") == "succeeded"


def _asterisk_media(sdp: str) -> tuple[str, int]:
    conn = re.search(r"^c=IN IP4 (\S+)", sdp, re.M)
    media = re.search(r"^m=audio (\d+)", sdp, re.M)
    assert conn and media, sdp
    return conn.group(1), int(media.group(1))


def test_the_page_registers_and_calls_a_phone_with_audio_both_ways(
    e2e: E2E, platform: Api, browser: Browser, site: str
) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna", devices=0)
    bo = org.add_user("1002", "Bo")
    page = _page(e2e, browser, site, anna)
    phone = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    phone.register()
    with RtpListener() as rtp:
        ringing = phone._start(with_media(sipp_scenarios.answer(200), rtp.port), "answer", remote=False)
        page.evaluate("() => window.phone.call('1002')")
        invite = until("the phone's INVITE", lambda: ringing.received("INVITE"))[0]
        until("the page's audio at the phone", lambda: rtp.count() > 20)  # page -> phone
        host, port = _asterisk_media(invite)
        sender = threading.Thread(target=rtp.send_audio, args=(host, port, 150))
        sender.start()
        _rising(page, "phone -> page")  # RTCPeerConnection inbound-rtp
        sender.join()
        page.evaluate("() => window.phone.hangup()")
        assert ringing.wait(15) == 0, ringing.explain()
    page.close()


def test_a_phone_rings_the_page_and_it_answers(e2e: E2E, platform: Api, browser: Browser, site: str) -> None:
    org = new_org(platform)
    cia = org.add_user("1003", "Cia", devices=0)
    dan = org.add_user("1004", "Dan")
    page = _page(e2e, browser, site, cia)
    phone = e2e.phone(dan.devices[0].sip_username, dan.devices[0].sip_password)
    phone.register()
    with RtpListener() as rtp:
        run = phone.call("1003", hold_ms=8000, media_port=rtp.port, wait=False)
        until("the page ringing", lambda: "ringing" in page.evaluate("() => window.events"))
        page.evaluate("() => window.phone.answer()")
        until("the page's audio at the phone", lambda: rtp.count() > 20)
        assert "confirmed" in page.evaluate("() => window.events")
        assert run.wait(30) == 0, run.explain()
    page.close()


def test_the_echo_test_returns_the_pages_audio(e2e: E2E, platform: Api, browser: Browser, site: str) -> None:
    org = new_org(platform)
    eva = org.add_user("1005", "Eva", devices=0)
    page = _page(e2e, browser, site, eva)
    page.evaluate("() => window.phone.call('*43')")
    _rising(page, "echo")
    page.evaluate("() => window.phone.hangup()")
    until("the call ended", lambda: "ended" in page.evaluate("() => window.events"))
    page.close()
