"""Ad-hoc conferences on the real stack (SIPp phones, ConfBridge): a third person added to a
two-party call (both dialogs go on, all three are in the room, the added one's audio reaches the
caller), the organization's limit (409), the host's controls, the host leaving ends it; a
multi-party call started from the app rings the host, then a colleague and an outside number, all
in the room; the last one left alone is hung up; the events in order."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.calls import answered_call, app, ok, phone, until
from tests.support.meeting_calls import RECORDING, EventTap
from tests.support.provision import Org, User, new_org
from tests.support.rtp import RtpListener, with_media
from tests.support.sipp import Phone, SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.meetings]


@pytest.fixture
def office(e2e: E2E, platform: Api) -> tuple[Org, User, User, User]:
    org = new_org(platform)
    return (
        org,
        org.add_user("1001", "Anna Svensson"),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cecilia Berg"),
    )


def members(e2e: E2E, room: str) -> list[str]:
    """The channels in the ConfBridge room, as Asterisk lists them (devices and Local invitees)."""
    assert e2e.stack.asterisk is not None
    out = e2e.stack.asterisk.cli(f"confbridge list {room}")
    return [line.split()[0] for line in out.splitlines() if line.startswith(("PJSIP/", "Local/"))]


def answer_and_play(p: Phone, timeout_s: float = 40) -> SippRun:
    """Answer (PCMA), then play about 8 s of speech into the call; wait for the BYE."""
    xml = sipp_scenarios.answer(200).replace(
        "m=audio [media_port] RTP/AVP 0 8", "m=audio [media_port] RTP/AVP 8"
    )
    xml = xml.replace(
        '<recv request="ACK" rtd="true" crlf="true"/>',
        '<recv request="ACK" rtd="true" crlf="true"/>\n'
        f'  <nop><action><exec play_pcap_audio="{RECORDING}"/></action></nop>',
        1,
    )
    return p._start(xml, "answer", remote=False, timeout_s=timeout_s)


def call_listening(p: Phone, number: str, port: int, hold_ms: int) -> SippRun:
    """Call `number` and stay; what Asterisk sends (also after a re-INVITE) arrives at `port`."""
    xml = with_media(sipp_scenarios.call(number, hold_ms=hold_ms, remote_may_hang_up=True), port)
    return p._start(xml, "call", remote=True, timeout_s=hold_ms / 1000 + 20)


def test_add_a_third_person_to_a_call(e2e: E2E, office: tuple) -> None:
    org, anna, bo, cecilia = office
    anna_app = app(e2e, anna)
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    with EventTap(e2e.control.api, anna_app.token or "") as tap, RtpListener() as anna_hears:
        bo_rings = b.answer(timeout_s=60)
        anna_calls = call_listening(a, "1002", anna_hears.port, hold_ms=45000)
        call = answered_call(anna_app)
        cecilia_rings = answer_and_play(c)
        quiet_from = time.monotonic()
        started = anna_app.post("/conferences", {"call": call["id"], "participants": ["1003"]}, expect=202)
        assert started["ringing"] == ["1003"]
        cid, room = started["id"], f"c{started['id']}"
        listed = until("three in the conference", lambda: (m := members(e2e, room)) and len(m) == 3 and m, 30)
        assert {ch.rsplit("-", 1)[0] for ch in listed if ch.startswith("PJSIP/")} == {
            f"PJSIP/{anna.devices[0].sip_username}",
            f"PJSIP/{bo.devices[0].sip_username}",
        }
        # both first dialogs went on (no BYE): the call became the conference
        assert anna_calls.returncode is None and bo_rings.returncode is None
        assert not anna_calls.received("BYE") and not bo_rings.received("BYE")
        # Cecilia's recording reaches Anna through the mix
        until("Anna hears Cecilia", lambda: anna_hears.loud_count(since=quiet_from) > 25, timeout_s=15)
        # the conference view: names, numbers, the host
        people = until(
            "three in the list",
            lambda: (
                (r := anna_app.get(f"/conferences/{cid}/participants")["participants"]) and len(r) == 3 and r
            ),
        )
        by_name = {p["name"]: p for p in people}
        assert set(by_name) == {"Anna Svensson", "Bo Ek", "Cecilia Berg"}, people
        assert by_name["Anna Svensson"]["host"] and not by_name["Bo Ek"]["host"]
        assert (by_name["Bo Ek"]["number"], by_name["Cecilia Berg"]["number"]) == ("1002", "1003")
        # a participant may not act as the host
        app(e2e, bo).request(
            "DELETE", f"/conferences/{cid}/participants/{by_name['Anna Svensson']['id']}", expect=403
        )
        # the organization's limit: 3 people; a fourth is refused with the reason
        org.admin.request("PUT", "/conference-settings", {"max_participants": 3}, expect=200)
        refused = anna_app.request("POST", f"/conferences/{cid}/participants", {"to": "1900"}, expect=409)
        assert "at most 3 participants" in refused["error"]["message"]
        # the host mutes Bo, then removes Cecilia: her phone is hung up on, Anna and Bo go on
        bo_id = by_name["Bo Ek"]["id"]
        anna_app.post(f"/conferences/{cid}/participants/{bo_id}/mute", {"muted": True}, expect=204)
        until(
            "Bo muted",
            lambda: any(p["muted"] for p in anna_app.get(f"/conferences/{cid}/participants")["participants"]),
        )
        anna_app.request(
            "DELETE", f"/conferences/{cid}/participants/{by_name['Cecilia Berg']['id']}", expect=204
        )
        ok(cecilia_rings, 20)
        until("two left", lambda: len(members(e2e, room)) == 2)
        assert bo_rings.returncode is None
        # the host hangs up: the conference ends for Bo too
        anna_app.post("/calls/hangup", {"call": call["id"]}, expect=204)
        ok(bo_rings, 20)
        assert bo_rings.received("BYE")
        until(
            "conference.ended", lambda: any(e["type"] == "conference.ended" for e in tap.of_conference(cid))
        )
    seen = [
        (e["type"], e.get("participant", {}).get("name"))
        for e in tap.of_conference(cid)
        if e["type"] != "conference.participant_talking"
    ]
    assert seen[0] == ("conference.started", None) and seen[-1] == ("conference.ended", None), seen
    joined = [n for t, n in seen if t == "conference.participant_joined"]
    assert set(joined[:2]) == {"Anna Svensson", "Bo Ek"} and joined[2:] == ["Cecilia Berg"], seen
    marks = [
        ("conference.participant_joined", "Cecilia Berg"),
        ("conference.participant_muted", "Bo Ek"),
        ("conference.participant_left", "Cecilia Berg"),
    ]
    assert [x for x in seen if x in marks] == marks, seen
    seqs = [e["seq"] for e in tap.of_conference(cid)]
    assert seqs == sorted(seqs)


def test_multi_party_call_rings_everyone_into_one_conference(e2e: E2E, office: tuple) -> None:
    org, anna, bo, cecilia = office
    anna_app = app(e2e, anna)
    group = org.admin.post(
        "/groups", {"extension": "2000", "name": "Support", "members": [{"user_id": cecilia.id}]}, expect=201
    )
    app(e2e, cecilia).post(f"/groups/{group['id']}/login", {}, expect=200)
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    anna_rings, bo_rings = a.answer(timeout_s=60), b.answer(timeout_s=60)
    carrier_rings = e2e.carrier().answer(timeout_s=60)
    # an outside number the call policy refuses (premium rate): 400, nothing rings
    anna_app.request("POST", "/conferences", {"participants": ["1002", "0900123456"]}, expect=400)
    bo_app = app(e2e, bo)
    with (
        EventTap(e2e.control.api, anna_app.token or "") as tap,
        EventTap(e2e.control.api, bo_app.token or "") as bo_tap,
    ):
        started = anna_app.post("/conferences", {"participants": ["1002", "0701234567"]}, expect=202)
        assert started["ringing"] == ["1002", "+46701234567"]
        cid, room = started["id"], f"c{started['id']}"
        until("all three in the conference", lambda: len(members(e2e, room)) == 3, timeout_s=30)
        # one more, later: the Support group, where Cecilia answers
        cecilia_rings = c.answer(timeout_s=60)
        added = anna_app.post(f"/conferences/{cid}/participants", {"to": "2000"}, expect=202)
        assert added == {"id": cid, "ringing": ["2000"]}
        people = until(
            "four in the list",
            lambda: (
                (r := anna_app.get(f"/conferences/{cid}/participants")["participants"]) and len(r) == 4 and r
            ),
            timeout_s=30,
        )
        assert sorted((p["name"], p["number"], p["host"]) for p in people) == [
            ("", "+46701234567", False),
            ("Anna Svensson", "1001", True),
            ("Bo Ek", "1002", False),
            ("Support", "2000", False),
        ]
        # the host removes the others: alone in the room, the host's call is ended too
        for p in people:
            if not p["host"]:
                anna_app.request("DELETE", f"/conferences/{cid}/participants/{p['id']}", expect=204)
        for run in (bo_rings, carrier_rings, cecilia_rings, anna_rings):
            ok(run, 20)
        until(
            "the conference is over", lambda: not anna_app.get(f"/conferences/{cid}/participants")["active"]
        )
        until(
            "conference.ended", lambda: any(e["type"] == "conference.ended" for e in tap.of_conference(cid))
        )
        # Bo, rung in as a colleague, sees the conference he is in on his own app, to its end
        until(
            "Bo's conference.ended",
            lambda: any(e["type"] == "conference.ended" for e in bo_tap.of_conference(cid)),
        )
        assert ("conference.participant_joined", "Bo Ek") in [
            (e["type"], e.get("participant", {}).get("name")) for e in bo_tap.of_conference(cid)
        ]
    seen = [
        (e["type"], e.get("participant", {}).get("name"))
        for e in tap.of_conference(cid)
        if e["type"] != "conference.participant_talking"
    ]
    # the host is in first (the others ring once the host answered); the group's answer last
    assert seen[:2] == [("conference.started", None), ("conference.participant_joined", "Anna Svensson")], (
        seen
    )
    joined = [n for t, n in seen if t == "conference.participant_joined"]
    assert sorted(joined[1:3]) == ["", "Bo Ek"] and joined[3:] == ["Support"], seen
    assert seen[-2:] == [("conference.participant_left", "Anna Svensson"), ("conference.ended", None)], seen
