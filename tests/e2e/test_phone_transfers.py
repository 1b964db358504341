"""Transfers that phones and callers attempt themselves, on the real stack: an outside caller
pressing the DTMF transfer codes of features.conf (*2 attended, #1 blind) transfers nothing (no
Dial of ours gives transfer rights: the keys reach our user as plain key presses), and a desk
phone's attended transfer (REFER with Replaces) lands through our routing."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import CARRIER_IP, CARRIER_PORT, E2E
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.provision import Org, User, new_org
from tests.support.rtp import RtpListener, with_media
from tests.support.sipp import header

pytestmark = [pytest.mark.e2e, pytest.mark.calls]


@pytest.fixture
def office(e2e: E2E, platform: Api) -> tuple[Org, User, User, User]:
    org = new_org(platform)
    return (
        org,
        org.add_user("1001", "Anna Svensson"),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cecilia Berg"),
    )


def media_of(message: str) -> tuple[str, int]:
    host = re.search(r"^c=IN IP4 (\S+)", message, re.MULTILINE)
    port = re.search(r"^m=audio (\d+)", message, re.MULTILINE)
    assert host and port, message
    return host.group(1), int(port.group(1))


def test_an_outside_caller_pressing_transfer_codes_transfers_nothing(e2e: E2E, office: tuple) -> None:
    org, anna, _, cecilia = office
    org.add_number("+46812345601", anna)
    a, c = phone(e2e, anna), phone(e2e, cecilia)
    anna_app = app(e2e, anna)
    carrier = e2e.carrier(CARRIER_PORT + 2)
    with RtpListener() as anna_hears, RtpListener(host=CARRIER_IP) as caller_rtp:
        a_answers = a._start(with_media(sipp_scenarios.answer(200), anna_hears.port), "answer",
                             remote=False, timeout_s=30)  # fmt: skip
        c_rings = c.answer(timeout_s=15)  # would answer a transferred call
        time.sleep(SETTLE_S)
        xml = sipp_scenarios.call("+46812345601", auth=False, from_user="+46701112233", hold_ms=6000)
        call = carrier._start(with_media(xml, caller_rtp.port), "call", remote=True, timeout_s=30)
        mine = answered_call(anna_app)
        until("the caller's 200 OK", lambda: call.received("SIP/2.0 200"))
        # The codes a bridge with transfer rights would act on: attended, then blind, to Cecilia.
        caller_rtp.send_digits(*media_of(call.received("SIP/2.0 200")[-1]), "*21003#1003#")
        # They reach Anna as plain key presses: nobody took them as a feature code.
        until("the keys at Anna's phone", lambda: anna_hears.digits == "*21003#1003#", 10)
        time.sleep(1.0)
        assert c_rings.received("INVITE") == []  # Cecilia's phone never rang
        still = [x for x in anna_app.get("/calls") if x["bridged"]]
        assert [(x["id"], x["peer_number"], x["held"]) for x in still] == [
            (mine["id"], "+46701112233", False)
        ]
        ok(call, 30)  # the caller hangs up after its hold: Anna's phone gets the BYE, still connected
        ok(a_answers, 10)
        c_rings.stop()


def _tag(value: str | None) -> str:
    m = re.search(r";\s*tag=([^;\s>]+)", value or "")
    assert m, value
    return m.group(1)


def test_an_attended_transfer_from_a_desk_phone_joins_the_caller_with_the_colleague(
    e2e: E2E, office: tuple
) -> None:
    """Bo (a desk phone) talks to Cecilia (the consultation, routed by our handler as any call) and
    takes a call from Anna; his phone REFERs Anna to Cecilia with Replaces naming the consultation.
    Anna and Cecilia then talk; both of Bo's dialogs end; the apps agree."""
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_consults = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)  # another line
    bo_app, cecilia_app = app(e2e, bo), app(e2e, cecilia)
    c_answers = c.answer(timeout_s=30)
    time.sleep(SETTLE_S)
    consult = bo_consults.call("1003", hold_ms=20000, wait=False, timeout_s=30, remote_may_hang_up=True)
    until("the consultation answered", lambda: consult.received("SIP/2.0 200"))
    invite, answer = consult.sent("INVITE")[-1], consult.received("SIP/2.0 200")[-1]
    to_tag, from_tag = _tag(header(answer, "To")), _tag(header(invite, "From"))
    replaces = f"{header(invite, 'Call-ID')};to-tag={to_tag};from-tag={from_tag}"

    server = f"{e2e.sip[0]}:{e2e.sip[1]}"
    refers = b._start(
        sipp_scenarios.answer_then_refer_replacing("1003", server, replaces),
        "refer",
        remote=False,
        timeout_s=30,
    )
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=3500, wait=False, timeout_s=30, remote_may_hang_up=True)
    ok(refers, 20)  # 202, the NOTIFYs up to 200, and the end of Bo's dialog with Anna
    assert refers.received("SIP/2.0 202")
    ok(consult, 15)  # the consultation was replaced: Asterisk hung it up
    joined = until(
        "Anna with Cecilia",
        lambda: [x for x in cecilia_app.get("/calls") if x["bridged"] and x["peer_number"] == "1001"],
    )
    assert len(joined) == 1
    until("Bo free", lambda: bo_app.get("/calls") == [])
    ok(call, 30)  # Anna hangs up after her hold: Cecilia's phone gets the BYE, so they were connected
    assert call.received("BYE") == []
    ok(c_answers, 10)
