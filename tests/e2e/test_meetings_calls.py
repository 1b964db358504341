"""Meetings on the real stack: SIPp participants dial *80, type PINs and talk in a ConfBridge room.
Joining by PIN (one after a wrong PIN), the host PIN, audio mixed (one plays a recording, another
hears it), three wrong PINs end the call, another organization's PIN opens nothing."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import app, ok, phone, until
from tests.support.meeting_calls import EventTap, join
from tests.support.provision import Org, User, new_org
from tests.support.rtp import RtpListener

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
    """The channels in the ConfBridge room, as Asterisk lists them."""
    assert e2e.stack.asterisk is not None
    out = e2e.stack.asterisk.cli(f"confbridge list {room}")
    return [line.split()[0] for line in out.splitlines() if line.startswith("PJSIP/")]


def wrong_pin(pin: str) -> str:
    return "".join(str((int(d) + 1) % 10) for d in pin)


def test_three_join_by_pin_and_hear_each_other(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia = office
    anna_app = app(e2e, anna)
    meeting = anna_app.post("/meetings", {"name": "Veckomöte"}, expect=201)
    room = f"m{meeting['id']}"
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    with EventTap(e2e.control.api, anna_app.token or "") as tap, RtpListener() as bo_hears:
        # Bo types a wrong PIN first, then the right one
        bo_in = join(b, [wrong_pin(meeting["pin"]), meeting["pin"]], hold_ms=25000, media_port=bo_hears.port)
        anna_in = join(a, [meeting["host_pin"]], hold_ms=25000)
        # Anna (host PIN at once) is in before Bo, whose first PIN was refused
        first = until("someone in the room", lambda: members(e2e, room), timeout_s=30)
        assert [ch.removeprefix("PJSIP/").rsplit("-", 1)[0] for ch in first] == [anna.devices[0].sip_username]
        until("Anna and Bo in the room", lambda: len(members(e2e, room)) == 2, timeout_s=30)
        quiet_from = time.monotonic()
        time.sleep(1.0)
        assert bo_hears.loud_count(since=quiet_from) == 0  # nobody talks yet
        cecilia_in = join(c, [meeting["pin"]], hold_ms=40000, play=True)
        listed = until(
            "three in the room", lambda: (m := members(e2e, room)) and len(m) == 3 and m, timeout_s=30
        )
        endpoints = {ch.removeprefix("PJSIP/").rsplit("-", 1)[0] for ch in listed}
        assert endpoints == {u.devices[0].sip_username for u in (anna, bo, cecilia)}
        # Cecilia's recording reaches Bo through the mix
        until(
            "Bo hears Cecilia's recording", lambda: bo_hears.loud_count(since=quiet_from) > 25, timeout_s=15
        )
        # the host's view: all three, with names, numbers, who is host
        mid = meeting["id"]
        room_now = until(
            "three in the app's list",
            lambda: (
                (r := anna_app.get(f"/meetings/{mid}/participants")) and len(r["participants"]) == 3 and r
            ),
        )
        by_name = {p["name"]: p for p in room_now["participants"]}
        assert set(by_name) == {"Anna Svensson", "Bo Ek", "Cecilia Berg"}
        assert by_name["Anna Svensson"]["host"] and not by_name["Bo Ek"]["host"]
        assert by_name["Bo Ek"]["number"] == "1002" and not by_name["Bo Ek"]["muted"]
        bo_id, cecilia_id = by_name["Bo Ek"]["id"], by_name["Cecilia Berg"]["id"]
        # a participant may not act as the host
        bo_app = app(e2e, bo)
        bo_app.request("POST", f"/meetings/{mid}/participants/{cecilia_id}/mute", {"muted": True}, expect=403)
        # the host mutes Bo, then removes Cecilia (her phone is hung up on)
        anna_app.post(f"/meetings/{mid}/participants/{bo_id}/mute", {"muted": True}, expect=204)

        def bo_muted() -> bool:
            people = anna_app.get(f"/meetings/{mid}/participants")["participants"]
            return any(p["id"] == bo_id and p["muted"] for p in people)

        until("Bo muted", bo_muted)
        anna_app.request("DELETE", f"/meetings/{mid}/participants/{cecilia_id}", expect=204)
        ok(cecilia_in, 30)
        assert cecilia_in.received("BYE"), cecilia_in.explain()
        until("two left", lambda: len(members(e2e, room)) == 2)
        left = anna_app.get(f"/meetings/{mid}/participants")["participants"]
        assert {p["name"] for p in left} == {"Anna Svensson", "Bo Ek"}
        ok(anna_in, 60)
        ok(bo_in, 60)
        until("the room is gone", lambda: not anna_app.get(f"/meetings/{mid}/participants")["active"])
        until("meeting.ended", lambda: any(e["type"] == "meeting.ended" for e in tap.of_meeting(mid)))
    # the events, in the order things happened
    events = tap.of_meeting(mid)
    seen = [
        (e["type"], e.get("participant", {}).get("name"))
        for e in events
        if e["type"] != "meeting.participant_talking"
    ]
    assert seen[0] == ("meeting.started", None) and seen[-1] == ("meeting.ended", None), seen
    joined = [n for t, n in seen if t == "meeting.participant_joined"]
    assert joined == ["Anna Svensson", "Bo Ek", "Cecilia Berg"], seen
    marks = [
        ("meeting.participant_joined", "Cecilia Berg"),
        ("meeting.participant_muted", "Bo Ek"),
        ("meeting.participant_left", "Cecilia Berg"),
    ]
    assert [x for x in seen if x in marks] == marks, seen
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs)


def test_three_wrong_pins_end_the_call_and_another_orgs_pin_opens_nothing(
    e2e: E2E, office: tuple, platform: Api
) -> None:
    _, anna, bo, _ = office
    meeting = app(e2e, anna).post("/meetings", {"name": "Plan"}, expect=201)
    other = new_org(platform, main_number=None)
    stranger = other.add_user("1001", "Dag Främling")
    s, b = phone(e2e, stranger), phone(e2e, bo)
    start = time.monotonic()
    # the right PIN of another organization's room, three times: never in, the call ends
    run = join(s, [meeting["pin"]] * 3, hold_ms=30000, between_ms=3000)
    ok(run, 60)
    took = time.monotonic() - start
    # answered, three tries typed (2.5 s + two 3 s pauses), then the room hung up long before the hold's end
    assert 8 < took < 28, took
    assert run.received("SIP/2.0 200") and run.received("BYE"), run.explain()
    assert members(e2e, f"m{meeting['id']}") == []
    # Bo: three wrong PINs in his own organization end the call too
    start = time.monotonic()
    bad = wrong_pin(meeting["pin"])
    run = join(b, [bad, bad, bad], hold_ms=30000)
    ok(run, 60)
    assert 8 < time.monotonic() - start < 28 and run.received("BYE"), run.explain()


def test_join_rings_my_device_into_the_meeting(e2e: E2E, office: tuple) -> None:
    _, anna, bo, _ = office
    bo_app = app(e2e, bo)
    meeting = bo_app.post("/meetings", {"name": "Avstämning"}, expect=201)
    anna_app = app(e2e, anna)
    a = phone(e2e, anna)
    rings = a.answer(timeout_s=40)
    time.sleep(0.3)
    anna_app.post(f"/meetings/{meeting['id']}/join", {}, expect=204)
    until("Anna's device in the room", lambda: members(e2e, f"m{meeting['id']}"), timeout_s=20)
    listed = members(e2e, f"m{meeting['id']}")
    assert [ch.removeprefix("PJSIP/").rsplit("-", 1)[0] for ch in listed] == [anna.devices[0].sip_username]
    # the owner sees her in the list, as a participant (not the host: Bo owns the meeting)
    people = until(
        "Anna in the owner's list",
        lambda: bo_app.get(f"/meetings/{meeting['id']}/participants")["participants"],
    )
    assert [(p["name"], p["number"], p["host"]) for p in people] == [("Anna Svensson", "1001", False)]
    # a device that is not mine: 404; then the owner removes her and her call ends
    anna_app.request("POST", f"/meetings/{meeting['id']}/join", {"device_id": 999999}, expect=404)
    bo_app.request("DELETE", f"/meetings/{meeting['id']}/participants/{people[0]['id']}", expect=204)
    ok(rings, 30)
