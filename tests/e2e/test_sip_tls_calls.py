"""Calls to phones registered over TLS, and SRTP with SDES keys (issue 13, least privilege).

The phone is Python's ssl module (tests/support/tls_phone.py: this SIPp has no TLS); the caller a
SIPp phone on UDP. Asterisk must send the INVITE over the phone's own TLS connection; a device with
media_encryption sdes gets an offer of RTP/SAVP with an a=crypto key, a plain one RTP/AVP."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import phone, until
from tests.support.counted import counts
from tests.support.provision import Org, User, new_org
from tests.support.tls_phone import TlsPhone, body, header

pytestmark = [pytest.mark.e2e, pytest.mark.security]


def tls_device(org: Org, user: User, **settings: str) -> dict:
    return org.admin.post(
        f"/users/{user.id}/devices", {"kind": "desk", "transport": "tls", **settings}, expect=201
    )


def tls_phone(e2e: E2E, created: dict, media_port: int) -> TlsPhone:
    sip = created["sip"]
    assert sip["transport"] == "tls" and sip["tls_port"] == e2e.stack.ports.sip_tls, sip
    p = TlsPhone(sip["username"], sip["password"], sip["realm"], ("127.0.0.1", sip["tls_port"]), media_port)
    reply = p.connect().register()
    assert reply.startswith("SIP/2.0 200"), reply
    return p.serve()


def legs(api: Api, endpoint: str) -> list[dict]:
    return [c for c in api.get("/calls") if c["endpoint"] == endpoint and c["bridged"]]


def call_over_tls(e2e: E2E, org: Org, caller: User, callee: TlsPhone, extension: str) -> tuple[str, str]:
    """The caller's SIPp phone calls `extension`; the TLS phone answers, the call is bridged (API),
    the TLS phone hangs up; returns (the INVITE the TLS phone got, its BYE's final response)."""
    calling = phone(e2e, caller).call(
        extension, hold_ms=30000, remote_may_hang_up=True, timeout_s=40, wait=False
    )
    invite = until("the INVITE on the TLS connection", lambda: callee.invites(), 15)[0]
    up = until("the call bridged on the TLS device", lambda: legs(org.admin, callee.username), 15)
    assert up[0]["state"] == "Up", up
    bye = callee.hang_up()
    assert calling.wait(15) == 0, calling.explain()
    until("the call gone", lambda: org.admin.get("/calls") == [], 10)
    return invite, bye


def test_sdes_needs_tls_and_is_refused_without_it(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="tlsv")
    anna = org.add_user("1001", "Anna")
    before = org.admin.get(f"/users/{anna.id}/devices")
    refused = org.admin.post(
        f"/users/{anna.id}/devices", {"kind": "desk", "media_encryption": "sdes"}, expect=400
    )
    assert "needs transport tls" in refused["error"]["message"], refused
    udp_device = anna.devices[0].id
    patched = org.admin.request("PATCH", f"/devices/{udp_device}", {"media_encryption": "sdes"}, expect=400)
    assert "readable" in patched["error"]["message"], patched
    web = org.admin.post(f"/users/{anna.id}/devices", {"kind": "web", "transport": "tls"}, expect=400)
    assert "WebSocket" in web["error"]["message"], web
    assert org.admin.get(f"/users/{anna.id}/devices") == before  # nothing changed
    # tls first, then sdes: allowed; back to udp while sdes stays on: refused
    assert (
        org.admin.request("PATCH", f"/devices/{udp_device}", {"transport": "tls"}, expect=200)["transport"]
        == "tls"
    )
    both = org.admin.request("PATCH", f"/devices/{udp_device}", {"media_encryption": "sdes"}, expect=200)
    assert (both["transport"], both["media_encryption"]) == ("tls", "sdes")
    org.admin.request("PATCH", f"/devices/{udp_device}", {"transport": "udp"}, expect=400)
    assert org.admin.get(f"/users/{anna.id}/devices")[0]["transport"] == "tls"


def test_a_call_reaches_a_tls_phone_with_srtp_and_a_plain_one_without(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="tlsc")
    anna = org.add_user("1001", "Anna")
    bo = org.add_user("1002", "Bo", devices=0)
    cilla = org.add_user("1003", "Cilla", devices=0)
    secure = tls_phone(e2e, tls_device(org, bo, media_encryption="sdes"), e2e.stack.ports.sip_tls + 20000)
    plain = tls_phone(e2e, tls_device(org, cilla), e2e.stack.ports.sip_tls + 20002)
    try:
        invite, bye = call_over_tls(e2e, org, anna, secure, "1002")
        assert bye.startswith("SIP/2.0 200"), bye
        assert (header(invite, "Via") or "").startswith("SIP/2.0/TLS"), invite
        sdp = body(invite)
        assert re.search(r"^m=audio \d+ RTP/SAVP ", sdp, re.MULTILINE), sdp
        crypto = re.findall(r"^a=crypto:\d+ AES_CM_128_HMAC_SHA1_(?:80|32) inline:\S+", sdp, re.MULTILINE)
        assert crypto, sdp

        invite2, bye2 = call_over_tls(e2e, org, anna, plain, "1003")
        assert bye2.startswith("SIP/2.0 200"), bye2
        assert (header(invite2, "Via") or "").startswith("SIP/2.0/TLS"), invite2
        sdp2 = body(invite2)
        assert re.search(r"^m=audio \d+ RTP/AVP ", sdp2, re.MULTILINE), sdp2
        assert "a=crypto" not in sdp2, sdp2
    finally:
        secure.close()
        plain.close()
    counts(
        "security/sip-tls-calls",
        calls_over_tls="2/2",
        srtp_offers=1,
        crypto_lines=len(crypto),
        plain_offers=1,
        byes_answered=2,
    )
