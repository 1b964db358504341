"""Answer groups: night mode (switch, schedule, holiday), feature codes, lamps, a DID, an Asterisk
restart and members added in Asterisk directly, through the real Asterisk with SIPp phones."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.e2e.test_groups_calls import GROUP, Setup, as_user, ok, sql
from tests.support.api import Api
from tests.support.sipp import header

pytestmark = [pytest.mark.e2e, pytest.mark.groups]
NIGHT_NUMBER = "+46812349999"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def lamp(e2e: E2E, group_id: int) -> str:
    out = e2e.stack.asterisk_instance().cli("devstate list")
    line = next((ln for ln in out.splitlines() if f"'Custom:pbxnight{group_id}'" in ln), "")
    return "INUSE" if "INUSE" in line and "NOT_INUSE" not in line else "NOT_INUSE"


def logged_in(s: Setup, user_id: int) -> bool:
    return next(m for m in s.get()["members"] if m["user_id"] == user_id)["logged_in"]


def night_setup(e2e: E2E, platform: Api) -> Setup:
    return Setup(e2e, platform, night_destination={"kind": "answering_service", "number": NIGHT_NUMBER})


def reaches_night_service(e2e: E2E, s: Setup) -> None:
    service = e2e.carrier().answer()
    ok(s.call())
    ok(service)
    assert service.received("INVITE")[0].startswith(f"INVITE sip:{NIGHT_NUMBER}@")


def reaches_member_a(s: Setup) -> None:
    answering = s.pa.answer()
    ok(s.call())
    ok(answering)


def test_night_switch_sends_calls_to_the_night_destination_and_lights_the_lamp(
    e2e: E2E, platform: Api
) -> None:
    s = night_setup(e2e, platform)
    s.login(s.a)
    assert s.get()["state"] == "grey"
    body = s.org.admin.post(f"/groups/{s.gid}/night", {"on": True}, expect=200)
    assert body["night"] is True and body["state"] == "padlock"
    assert lamp(e2e, s.gid) == "INUSE"
    assert f"*46{GROUP}" in e2e.stack.asterisk_instance().cli(f"core show hint *46{GROUP}")
    reaches_night_service(e2e, s)

    s.org.admin.post(f"/groups/{s.gid}/night", {"on": False}, expect=200)
    assert lamp(e2e, s.gid) == "NOT_INUSE"
    reaches_member_a(s)


def test_night_by_schedule_and_holiday_in_the_organizations_timezone(e2e: E2E, platform: Api) -> None:
    s = night_setup(e2e, platform)
    s.login(s.a)
    # The service runs on the wall clock: every expectation below holds even if local midnight
    # passes during the test.
    today = datetime.now(ZoneInfo("Europe/Stockholm"))
    other_day = DAYS[(today.weekday() + 3) % 7]
    s.org.admin.request(
        "PATCH",
        f"/groups/{s.gid}",
        {"schedule": [{"day": other_day, "open": "08:00", "close": "17:00"}]},
        expect=200,
    )
    assert s.get()["state"] == "padlock"
    reaches_night_service(e2e, s)

    all_week = [{"day": day, "open": "00:00", "close": "24:00"} for day in DAYS]
    holidays = [{"date": (today.date() + timedelta(days=n)).isoformat(), "name": "Julafton"} for n in (0, 1)]
    s.org.admin.request("PATCH", f"/groups/{s.gid}", {"schedule": all_week, "holidays": holidays}, expect=200)
    reaches_night_service(e2e, s)

    # "Don't forget to save": the change applies to the next call, no restart, no reload.
    s.org.admin.request("PATCH", f"/groups/{s.gid}", {"holidays": []}, expect=200)
    assert s.get()["night"] is False
    reaches_member_a(s)


def test_feature_codes_toggle_login_and_night(e2e: E2E, platform: Api) -> None:
    s = night_setup(e2e, platform)
    ok(s.pa.call(f"*45{GROUP}", hold_ms=300))
    assert logged_in(s, s.a.id) is True
    assert as_user(s.org, s.a).get(f"/groups/{s.gid}")["state"] == "green"
    ok(s.pa.call(f"*45{GROUP}", hold_ms=300))
    assert logged_in(s, s.a.id) is False
    ok(s.pa.call(f"*45{GROUP}", hold_ms=300))
    assert logged_in(s, s.a.id) is True

    # the caller C may not answer the group: refused, nothing changes
    ok(s.pc.call(f"*45{GROUP}", expect=404))
    assert all(m["user_id"] != s.c.id for m in s.get()["members"])
    # night switch from a phone: a plain member may not, a group admin may (and the lamp follows)
    ok(s.pa.call(f"*46{GROUP}", expect=404))
    assert s.get()["night_manual"] is False
    members = [{"user_id": s.a.id, "group_admin": True}, {"user_id": s.b.id}]
    s.org.admin.request("PATCH", f"/groups/{s.gid}", {"members": members}, expect=200)
    ok(s.pa.call(f"*46{GROUP}", hold_ms=300))
    assert s.get()["night_manual"] is True
    assert lamp(e2e, s.gid) == "INUSE"
    reaches_night_service(e2e, s)
    ok(s.pa.call(f"*46{GROUP}", hold_ms=300))
    assert s.get()["night_manual"] is False and lamp(e2e, s.gid) == "NOT_INUSE"


def test_a_did_reaches_the_group(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform, number="+46812340020")
    s.login(s.a)
    answering = s.pa.answer()
    time.sleep(0.3)
    ok(e2e.carrier(CARRIER_PORT + 2).call("+46812340020", auth=False, from_user="+46701112233"))
    ok(answering)
    assert "+46701112233" in (header(answering.received("INVITE")[0], "From") or "")


def test_a_colleague_without_the_right_gets_403_and_nothing_changes(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    before = s.get()
    reply = as_user(s.org, s.c).post(f"/groups/{s.gid}/login", {"user_id": s.a.id}, expect=403)
    assert reply["error"]["code"] == "forbidden"
    as_user(s.org, s.c).post(f"/groups/{s.gid}/login", {}, expect=403)  # C may not answer the group
    as_user(s.org, s.a).post("/groups/99999/login", {}, expect=404)
    assert s.get() == before


def test_membership_survives_an_asterisk_restart_and_stray_members_are_reconciled(
    e2e: E2E, platform: Api
) -> None:
    s = night_setup(e2e, platform)
    s.login(s.a)
    asterisk = e2e.stack.asterisk_instance()
    health = Api(e2e.control.api)
    asterisk.stop()
    wait_for(lambda: health.request("GET", "/health", check=False)["ami"]["connected"] is False, "AMI loss")
    # switched to night while Asterisk was down: the lamp must follow once it is back
    sql(e2e, "UPDATE answer_groups SET night_manual = true WHERE id = $1", s.gid)
    asterisk.start()
    wait_for(lambda: health.request("GET", "/health", check=False)["ami"]["ok"] is True, "AMI back")
    wait_for(lambda: lamp(e2e, s.gid) == "INUSE", "the night lamp restored")
    for p in (s.pa, s.pb, s.pc, s.po):
        p.register()
    reaches_night_service(e2e, s)
    s.org.admin.post(f"/groups/{s.gid}/night", {"on": False}, expect=200)
    reaches_member_a(s)  # A's login is still there: nothing was lost with Asterisk

    # Members added in Asterisk directly: B may answer (taken as B logging in), C may not (removed).
    queue = sql(e2e, "SELECT queue_name FROM answer_groups WHERE id = $1", s.gid)[0][0]
    b_dev, c_dev = s.b.devices[0].sip_username, s.c.devices[0].sip_username
    asterisk.cli(f"queue add member PJSIP/{b_dev} to {queue}")
    asterisk.cli(f"queue add member PJSIP/{c_dev} to {queue}")
    wait_for(lambda: logged_in(s, s.b.id), "B's login from Asterisk stored in the database")
    queue = sql(e2e, "SELECT queue_name FROM answer_groups WHERE id = $1", s.gid)[0][0]
    wait_for(lambda: "PJSIP/" not in asterisk.cli(f"queue show {queue}"), "the dynamic members removed")
    assert all(m["user_id"] != s.c.id for m in s.get()["members"])
    ringing = s.pa.ring()
    answering = s.pb.answer(answer_after_ms=800)
    ok(s.call())
    ok(answering)
    ok(ringing)


def test_with_the_control_service_frozen_a_group_still_rings_its_logged_in_members(
    e2e: E2E, platform: Api
) -> None:
    s = Setup(e2e, platform)
    s.login(s.a)
    answering = s.pa.answer()
    bystander = s.pb.answer(timeout_s=8)  # B may answer the group but is logged out
    e2e.control.freeze()
    try:
        ok(s.call())  # after the AGI guard, from PostgreSQL directly (pbx_dial_targets)
    finally:
        e2e.control.thaw()
    ok(answering)
    bystander.stop()  # the call is over: an INVITE for B would have come
    assert bystander.received("INVITE") == []


def test_a_pause_made_in_asterisk_lands_in_the_database(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.login(s.a)
    queue = sql(e2e, "SELECT queue_name FROM answer_groups WHERE id = $1", s.gid)[0][0]
    asterisk = e2e.stack.asterisk_instance()
    asterisk.cli(f"queue show {queue}")  # app_queue loads the realtime queue
    asterisk.cli(f"queue pause member Local/0001-{s.a.id}@pbx-group-member/n queue {queue} reason lunch")

    def paused() -> bool:
        me = next(m for m in s.get()["members"] if m["user_id"] == s.a.id)
        return me["logged_in"] and me["paused"] and me["pause_reason"] == "lunch"

    wait_for(paused, "the pause stored on A's row")
    overflow = s.po.answer()  # A is paused: nobody to ring, so the caller overflows at once
    ok(s.call())
    ok(overflow)


def test_a_member_added_in_asterisk_while_the_service_was_away_is_settled_on_reconnect(
    e2e: E2E, platform: Api
) -> None:
    s = Setup(e2e, platform)
    queue = sql(e2e, "SELECT queue_name FROM answer_groups WHERE id = $1", s.gid)[0][0]
    asterisk = e2e.stack.asterisk_instance()
    e2e.control.stop()
    try:
        asterisk.cli(f"queue add member PJSIP/{s.a.devices[0].sip_username} to {queue}")
        assert "PJSIP/" in asterisk.cli(f"queue show {queue}")
    finally:
        e2e.control.start()
    wait_for(lambda: logged_in(s, s.a.id), "A's login found by QueueStatus after the AMI reconnect")
    wait_for(lambda: "PJSIP/" not in asterisk.cli(f"queue show {queue}"), "the dynamic member removed")
    reaches_member_a(s)
