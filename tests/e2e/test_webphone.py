"""The browser softphone's server side: a user's own web device, its credentials from the API, and
a registration over SIP/WebSocket through Asterisk's HTTP server, as JsSIP makes it."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import app, until
from tests.support.provision import new_org
from tests.support.rtp import RtpListener
from tests.support.ws_sip import WsSipClient

pytestmark = [pytest.mark.e2e, pytest.mark.webphone]


def _client(account: dict) -> WsSipClient:
    domain = account["uri"].split("@", 1)[1]
    return WsSipClient(account["ws_url"], domain, account["sip_username"], account["ha1"])


def test_a_user_gets_their_own_web_device_and_registers_over_websocket(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna", devices=0)
    bo = org.add_user("1002", "Bo", devices=0)
    anna_app, bo_app = app(e2e, anna), app(e2e, bo)

    anna_app.get("/users/me/webphone", expect=404)
    made = anna_app.post("/users/me/webphone", {}, expect=201)
    assert anna_app.post("/users/me/webphone", {}, expect=200) == made  # idempotent, same account
    assert anna_app.get("/users/me/webphone") == made
    assert made["ws_url"] == f"ws://127.0.0.1:{e2e.stack.ports.http}/ws"
    assert made["echo_test"] == "*43"
    mine = [d for d in anna_app.get("/users/me")["devices"] if d["kind"] == "web"]
    assert [d["sip_username"] for d in mine] == [made["sip_username"]]
    # Bo never sees Anna's account: he has none yet, and his own is another one.
    bo_app.get("/users/me/webphone", expect=404)
    bos = bo_app.post("/users/me/webphone", {}, expect=201)
    assert bos["sip_username"] != made["sip_username"] and bos["ha1"] != made["ha1"]

    seen: list[str] = []

    def contact_is_ws() -> None:
        def probe() -> bool:
            seen.append(e2e.stack.asterisk_instance().cli(f"pjsip show contacts like {made['sip_username']}"))
            # the contact the WebSocket registration made (the listing cuts it after ";tr")
            return f"{made['sip_username']}/sip:{made['sip_username']}@127.0.0.1:" in seen[-1]

        try:
            until("the WebSocket contact in Asterisk", probe)
        except AssertionError:
            raise AssertionError(seen[-1:]) from None

    status, reply = asyncio.run(_client(made).register(while_registered=contact_is_ws))
    assert status == 200, reply
    endpoint = until(
        "the endpoint in the CLI",
        lambda: e2e.stack.asterisk_instance().cli(f"pjsip show endpoint {made['sip_username']}"),
    )
    for option, value in (
        ("webrtc", "yes"),
        ("media_encryption", "dtls"),
        ("ice_support", "true"),
        ("dtls_auto_generate_cert", "Yes"),
    ):
        assert any(line.split()[:3] == [option, ":", value] for line in endpoint.splitlines()), endpoint
    assert any(line.split()[:3] == ["allow", ":", "(opus|ulaw|alaw)"] for line in endpoint.splitlines()), (
        endpoint
    )

    # A wrong secret (Bo's HA1 for Anna's name) is refused.
    forged = WsSipClient(made["ws_url"], "127.0.0.1", made["sip_username"], bos["ha1"])
    status, reply = asyncio.run(forged.register())
    assert status in (401, 403), reply


def test_a_platform_admin_has_no_webphone(platform: Api) -> None:
    platform.get("/users/me/webphone", expect=403)


def test_the_echo_test_number_sends_a_phones_audio_back(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    cia = org.add_user("1003", "Cia")
    phone = e2e.phone(cia.devices[0].sip_username, cia.devices[0].sip_password)
    phone.register()
    with RtpListener() as rtp:
        run = phone.call("*43", hold_ms=6000, media_port=rtp.port, wait=False)
        answer = until("the echo test's answer", lambda: run.received("SIP/2.0 200"))[0]
        media = re.search(r"^m=audio (\d+)", answer, re.M)
        assert media is not None, answer
        time.sleep(1.0)
        assert rtp.count() == 0, "Asterisk sent audio before the phone did: that is not an echo"
        sent_at = time.monotonic()
        rtp.send_audio("127.0.0.1", int(media.group(1)))
        until("the phone's own audio back", lambda: rtp.count(since=sent_at) >= 20, timeout_s=5)
    assert run.wait(20) == 0, run.explain()
