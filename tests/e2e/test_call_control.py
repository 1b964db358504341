"""Call control from the app through the real Asterisk: my calls, blind transfer, park and pick up
with *8<slot>, hang up; and who may act on whose call."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.provision import Org, User, new_org

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


def test_blind_transfer_sends_the_caller_to_a_colleague(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app = app(e2e, bo)
    b_answers, c_answers = b.answer(), c.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=4000, wait=False)

    mine = answered_call(bo_app)
    assert mine["peer_number"] == "1001" and mine["state"] == "Up"
    bo_app.post("/calls/transfer", {"call": mine["id"], "to": "1003"}, expect=204)

    ok(b_answers)  # Bo's phone is hung up at once
    ok(c_answers)  # Cecilia rings, answers, and talks to Anna until Anna hangs up
    ok(call)
    assert "Anna Svensson" in c_answers.received("INVITE")[0]
    assert bo_app.get("/calls") == []


def test_a_parked_call_is_listed_and_picked_up_from_another_phone(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app, cecilia_app = app(e2e, bo), app(e2e, cecilia)
    b_answers = b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=15000, wait=False, remote_may_hang_up=True)

    mine = answered_call(bo_app)
    parked = bo_app.post("/calls/park", {"call": mine["id"]})
    assert parked["slot"] == "701" and parked["timeout_s"] > 0
    ok(b_answers)  # Bo is free

    listed = cecilia_app.get("/calls/parked")
    assert [(p["slot"], p["caller_number"]) for p in listed] == [("701", "1001")]

    pickup = c.call("*8701", hold_ms=800)  # Cecilia talks to Anna, then hangs up
    assert pickup.returncode == 0, pickup.explain()
    ok(call)  # Anna's call ends with Cecilia's hang-up: it was connected to her
    assert call.received("BYE"), "the parked caller was never connected to the one who picked up"
    assert cecilia_app.get("/calls/parked") == []


def test_a_parked_call_nobody_picks_up_rings_the_one_who_parked_it(e2e: E2E, office: tuple) -> None:
    _, anna, bo, _ = office
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    first = b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=9000, wait=False, timeout_s=30)
    mine = answered_call(bo_app)
    for bad in (0, 4, 901, "soon"):
        r = bo_app.post("/calls/park", {"call": mine["id"], "timeout_s": bad}, expect=400)
        assert r["error"]["code"] == "validation_error"
    assert bo_app.post("/calls/park", {"call": mine["id"], "timeout_s": 5})["timeout_s"] == 5
    ok(first)
    again = b.answer()  # after 5 s Anna comes back to Bo's phone, talks, and hangs up
    ok(again, 20)
    ok(call, 30)
    assert '"Anna Svensson"' in again.received("INVITE")[0]


def test_parked_calls_of_one_organization_are_not_seen_or_picked_up_by_another(
    e2e: E2E, platform: Api, office: tuple
) -> None:
    _, anna, bo, _ = office
    other = new_org(platform)
    stranger = other.add_user("1003", "Stranger")
    a, b, s = phone(e2e, anna), phone(e2e, bo), phone(e2e, stranger)
    bo_app, stranger_app = app(e2e, bo), app(e2e, stranger)
    b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=3000, wait=False, remote_may_hang_up=True)
    bo_app.post("/calls/park", {"call": answered_call(bo_app)["id"]}, expect=200)

    assert stranger_app.get("/calls/parked") == []
    attempt = s.call("*8701", expect=404, timeout_s=8)  # nothing parked in the stranger's lot
    assert attempt.returncode == 0, attempt.explain()
    ok(call, 30)  # Anna was still parked: her own hang-up ends it
    assert not call.received("BYE"), "the parked call was ended by someone else"


def test_hang_up_from_the_app_and_who_may_touch_whose_call(e2e: E2E, platform: Api, office: tuple) -> None:
    org, anna, bo, cecilia = office
    operator = org.add_user("1009", "Olle Operator", role="operator")
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app, cecilia_app, operator_app = app(e2e, bo), app(e2e, cecilia), app(e2e, operator)
    stranger_app = app(e2e, new_org(platform).add_user("1002", "Stranger"))
    b_answers = b.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=15000, wait=False, remote_may_hang_up=True)
    mine = answered_call(bo_app)

    # A colleague and another organization do not see it and cannot act on it.
    assert cecilia_app.get("/calls") == []
    for asker in (cecilia_app, stranger_app):
        r = asker.post("/calls/hangup", {"call": mine["id"]}, expect=404)
        assert r["error"]["code"] == "call_not_found"
    # Bad input: a clear 400 and nothing happens.
    for body in ({"call": mine["id"], "to": "12; Hangup"}, {"call": mine["id"], "to": ""}, {"to": "1003"}):
        assert bo_app.post("/calls/transfer", body, expect=400)["error"]["code"] == "validation_error"
    assert bo_app.post("/calls/hangup", {"call": "1.2\nAction: Originate"}, expect=404)
    assert answered_call(bo_app)["id"] == mine["id"]

    # The operator sees every device's call in the organization and may hang it up.
    seen = {c["id"] for c in operator_app.get("/calls")}
    assert mine["id"] in seen
    operator_app.post("/calls/hangup", {"call": mine["id"]}, expect=204)
    ok(b_answers)
    ok(call)
    until("the call gone from the app", lambda: bo_app.get("/calls") == [])


def test_direct_transfer_to_a_group_and_to_an_outside_number(e2e: E2E, office: tuple) -> None:
    org, anna, bo, cecilia = office
    group = org.admin.post(
        "/groups", {"extension": "20", "name": "Support", "members": [{"user_id": cecilia.id}]}, expect=201
    )
    app(e2e, cecilia).post(f"/groups/{group['id']}/login", {}, expect=200)
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app = app(e2e, bo)
    # Checked as a forward target is: no such extension, oneself, not a number: 400, nothing happens.
    b_answers, c_answers = b.answer(), c.answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=4000, wait=False)
    mine = answered_call(bo_app)
    for to in ("4711", "1002", "+0"):
        assert bo_app.post("/calls/transfer", {"call": mine["id"], "to": to}, expect=400)["error"]["code"]
    assert answered_call(bo_app)["id"] == mine["id"]
    bo_app.post("/calls/transfer", {"call": mine["id"], "to": "20"}, expect=204)  # the group
    ok(b_answers)
    ok(c_answers)  # Cecilia, logged in to the group, takes it
    ok(call)

    b_answers = b.answer()
    carrier = e2e.carrier().answer()
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=4000, wait=False)
    mine = answered_call(bo_app)
    bo_app.post("/calls/transfer", {"call": mine["id"], "to": "070-123 45 67"}, expect=204)
    ok(b_answers)
    assert carrier.wait(20) == 0, carrier.explain()
    assert carrier.received("INVITE")[0].startswith("INVITE sip:+46701234567@")
    ok(call)
