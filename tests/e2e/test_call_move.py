"""Moving a call to another of my devices ("flytta hit") on the real stack: from the app, then back
by *88 dialled on the device that should take it. The far end's SIP dialog never ends (its SIPp
sees no BYE until the call ends) and its audio goes on, now from the device that took the call.
The events socket tells `call.moved` to me and to the far end's user, never to a colleague."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.events_ws import EventSocket
from tests.support.provision import Org, User, new_org
from tests.support.rtp import RtpListener, with_media
from tests.support.sipp import Phone, header

pytestmark = [pytest.mark.e2e, pytest.mark.calls]


@pytest.fixture
def office(e2e: E2E, platform: Api) -> tuple[Org, User, User, User]:
    org = new_org(platform)
    return (
        org,
        org.add_user("1001", "Anna Svensson", devices=2),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cecilia Berg"),
    )


def media_of(message: str) -> tuple[str, int]:
    """Where Asterisk wants the audio of this leg (the SDP of the message it sent)."""
    host = re.search(r"^c=IN IP4 (\S+)", message, re.MULTILINE)
    port = re.search(r"^m=audio (\d+)", message, re.MULTILINE)
    assert host and port, message
    return host.group(1), int(port.group(1))


def heard_from(speaker: RtpListener, to: tuple[str, int], listener: RtpListener) -> int:
    """Packets `listener` gets while `speaker` sends one second of audio to Asterisk at `to`."""
    start = time.monotonic()
    speaker.send_audio(*to, packets=50)
    time.sleep(0.2)
    return listener.count(since=start)


def device_phone(e2e: E2E, user: User, index: int) -> Phone:
    p = e2e.phone(user.devices[index].sip_username, user.devices[index].sip_password)
    p.register()
    return p


def test_a_call_moves_to_my_other_device_and_back_and_the_far_end_stays_connected(
    e2e: E2E, office: tuple
) -> None:
    _, anna, bo, cecilia = office
    desk, mobile, b = device_phone(e2e, anna, 0), device_phone(e2e, anna, 1), phone(e2e, bo)
    anna_app, cecilia_app = app(e2e, anna), app(e2e, cecilia)
    with (
        RtpListener() as bo_hears,
        RtpListener() as desk_rtp,
        RtpListener() as mobile_rtp,
        EventSocket(anna_app) as anna_ws,
        EventSocket(app(e2e, bo)) as bo_ws,
        EventSocket(cecilia_app) as cecilia_ws,
    ):
        bo_run = b._start(with_media(sipp_scenarios.answer(200), bo_hears.port), "answer", remote=False,
                          timeout_s=40)  # fmt: skip
        time.sleep(SETTLE_S)
        desk_run = desk.call("1002", hold_ms=30000, wait=False, timeout_s=40, remote_may_hang_up=True,
                             media_port=desk_rtp.port)  # fmt: skip
        first = answered_call(anna_app)
        assert first["endpoint"] == anna.devices[0].sip_username

        # Bad requests change nothing.
        mobile_id = anna.devices[1].id
        for body, status, code in (
            ({"call": first["id"], "device": anna.devices[0].id}, 409, "same_device"),
            ({"call": first["id"], "device": bo.devices[0].id}, 404, "device_not_found"),
            ({"call": "1.2", "device": mobile_id}, 404, "call_not_found"),
        ):
            assert anna_app.post("/calls/move", body, expect=status)["error"]["code"] == code
        r = cecilia_app.post("/calls/move", {"call": first["id"], "device": mobile_id}, expect=404)
        assert r["error"]["code"] == "call_not_found"

        # From the app onto the mobile: it rings showing Bo, answers, and has the call.
        mobile_run = mobile._start(with_media(sipp_scenarios.answer(200), mobile_rtp.port), "answer",
                                   remote=False, timeout_s=40)  # fmt: skip
        out = anna_app.post("/calls/move", {"call": first["id"], "device": mobile_id}, expect=202)
        assert out == {"call": first["id"], "device": anna.devices[1].sip_username}
        ok(desk_run, 15)  # the desk phone got its BYE
        moved = anna_ws.wait_for("call.moved", lambda m: m.get("type") == "call.moved")
        assert moved["call"]["from"] == first["id"]
        assert moved["call"]["endpoint"] == anna.devices[1].sip_username
        bo_ws.wait_for("call.moved for Bo", lambda m: m.get("type") == "call.moved")
        now = until("the call on the mobile", lambda: [c for c in anna_app.get("/calls") if c["bridged"]])
        assert [(c["endpoint"], c["peer_number"]) for c in now] == [(anna.devices[1].sip_username, "1002")]
        assert "Bo Ek" in (header(mobile_run.received("INVITE")[0], "From") or "")  # who it takes
        assert bo_run.received("BYE") == [] and bo_run.returncode is None  # Bo's dialog goes on
        assert heard_from(mobile_rtp, media_of(mobile_run.received("INVITE")[0]), bo_hears) > 30

        # Back to the desk phone by *88 dialled on it.
        time.sleep(SETTLE_S)
        with RtpListener() as desk_again:
            back = desk.call("*88", hold_ms=1500, wait=False, timeout_s=20, media_port=desk_again.port)
            ok(mobile_run, 15)  # the mobile got its BYE
            until(
                "the call back on the desk phone",
                lambda: [c for c in anna_app.get("/calls") if c["bridged"]
                         and c["endpoint"] == anna.devices[0].sip_username],
            )  # fmt: skip
            assert bo_run.received("BYE") == [] and bo_run.returncode is None
            assert heard_from(desk_again, media_of(back.received("SIP/2.0 200")[-1]), bo_hears) > 30
            ok(back, 20)  # the desk phone hangs up: only now does Bo's phone get a BYE
        ok(bo_run, 15)
        assert len(bo_run.received("BYE")) == 1
        # Bo's phone was always shown Anna (never its own name, which the mobile showed while it rang).
        shown = [header(m, "P-Asserted-Identity") or "" for m in bo_run.received("INVITE")]
        assert shown and all("Anna Svensson" in x for x in shown), shown
        moves = anna_ws.of_type("call.moved")
        assert len(moves) == 2 and moves[1]["call"]["endpoint"] == anna.devices[0].sip_username
        assert moves[1]["seq"] > moves[0]["seq"]
        time.sleep(0.3)
        assert cecilia_ws.of_type("call.") == [] and cecilia_ws.of_type("channel.") == []


def test_star88_with_no_call_on_my_other_devices_is_refused(e2e: E2E, office: tuple) -> None:
    _, anna, _, _ = office
    desk = device_phone(e2e, anna, 0)
    run = desk.call("*88", expect=404, timeout_s=10)
    assert run.returncode == 0, run.explain()
