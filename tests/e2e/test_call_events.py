"""Live events of call operations on the real stack, read from the events WebSocket as an app
would: hold and resume from the app (call.held / call.resumed), an announced transfer
(transfer.started / answered / completed), each seen by the call's parties and never by a
colleague who is not on the call."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.events_ws import EventSocket
from tests.support.provision import Org, User, new_org

pytestmark = [pytest.mark.e2e, pytest.mark.calls]


@pytest.fixture
def office(e2e: E2E, platform: Api) -> tuple[Org, User, User, User, User]:
    org = new_org(platform)
    return (
        org,
        org.add_user("1001", "Anna Svensson"),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cecilia Berg"),
        org.add_user("1004", "David Holm"),
    )


def test_hold_and_resume_from_the_app_are_events_of_the_call(e2e: E2E, office: tuple) -> None:
    _, anna, bo, _, david = office
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    with (
        EventSocket(bo_app) as bo_ws,
        EventSocket(app(e2e, anna)) as anna_ws,
        EventSocket(app(e2e, david)) as david_ws,
    ):
        b_answers = b.answer(timeout_s=40)
        time.sleep(SETTLE_S)
        call = a.call("1002", hold_ms=8000, wait=False, timeout_s=40, remote_may_hang_up=True)
        mine = answered_call(bo_app)

        bo_app.post("/calls/hold", {"call": mine["id"]}, expect=204)
        held = bo_ws.wait_for("call.held", lambda m: m.get("type") == "call.held")
        assert held["call"]["id"] == mine["id"] and held["call"]["by"] == "app"
        assert held["call"]["peer"] and isinstance(held["seq"], int)
        # The other party (Anna's own device is on the call) is told too.
        anna_ws.wait_for("call.held for Anna", lambda m: m.get("type") == "call.held")
        until("held in the app", lambda: [c for c in bo_app.get("/calls") if c["held"]])

        bo_app.post("/calls/resume", {"call": mine["id"]}, expect=204)
        resumed = bo_ws.wait_for("call.resumed", lambda m: m.get("type") == "call.resumed")
        assert resumed["call"]["id"] == mine["id"] and resumed["seq"] > held["seq"]
        until("resumed in the app", lambda: [c for c in bo_app.get("/calls") if not c["held"]])
        ok(call, 40)
        ok(b_answers)
        time.sleep(0.5)
        assert david_ws.of_type("call.") == [] and david_ws.of_type("channel.") == []


def test_an_announced_transfer_is_told_step_by_step(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia, david = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app = app(e2e, bo)
    with EventSocket(bo_app) as bo_ws, EventSocket(app(e2e, david)) as david_ws:
        c_answers = c.answer(answer_after_ms=500, timeout_s=40)
        b_answers = b.answer(timeout_s=40)
        time.sleep(SETTLE_S)
        call = a.call("1002", hold_ms=6000, wait=False, timeout_s=40, remote_may_hang_up=True)
        mine = answered_call(bo_app)
        transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
        bo_ws.wait_for("transfer.answered", lambda m: m.get("type") == "transfer.answered")
        bo_app.post(f"/calls/transfers/{transfer['id']}/complete", {})
        bo_ws.wait_for("transfer.completed", lambda m: m.get("type") == "transfer.completed")
        steps = [(m["type"], m["transfer"]["id"]) for m in bo_ws.of_type("transfer.")]
        assert steps == [
            ("transfer.started", transfer["id"]),
            ("transfer.answered", transfer["id"]),
            ("transfer.completed", transfer["id"]),
        ]
        seqs = [m["seq"] for m in bo_ws.of_type("transfer.")]
        assert seqs == sorted(seqs)
        ok(b_answers)
        ok(call, 40)
        ok(c_answers)
        time.sleep(0.5)
        assert david_ws.of_type("transfer.") == [] and david_ws.of_type("channel.") == []


def test_park_retrieve_and_the_history_row_are_events_of_the_call(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia, david = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app = app(e2e, bo)
    with (
        EventSocket(bo_app) as bo_ws,
        EventSocket(app(e2e, cecilia)) as cecilia_ws,
        EventSocket(app(e2e, david)) as david_ws,
    ):
        b_answers = b.answer(timeout_s=40)
        time.sleep(SETTLE_S)
        call = a.call("1002", hold_ms=4000, wait=False, timeout_s=40,
                      remote_may_hang_up=True)  # fmt: skip
        mine = answered_call(bo_app)
        slot = bo_app.post("/calls/park", {"call": mine["id"]})["slot"]
        parked = bo_ws.wait_for("call.parked", lambda m: m.get("type") == "call.parked")
        assert parked["call"]["slot"] == slot and parked["call"]["caller_number"] == "1001"
        ok(b_answers)

        picks = c.call(f"*8{slot}", hold_ms=800, wait=False, timeout_s=20)
        retrieved = bo_ws.wait_for("call.retrieved", lambda m: m.get("type") == "call.retrieved")
        assert retrieved["call"]["id"] == parked["call"]["id"] and retrieved["seq"] > parked["seq"]
        got = cecilia_ws.wait_for("call.retrieved for Cecilia", lambda m: m.get("type") == "call.retrieved")
        assert got["call"]["peer"] and got["seq"] == retrieved["seq"]  # the same event, numbered once
        ok(picks, 20)  # Cecilia hangs up: the call ends
        ok(call, 40)

        # Each party's history row, as soon as PostgreSQL has it; a user's own only.
        row = bo_ws.wait_for("history.added", lambda m: m.get("type") == "history.added")
        assert row["history"]["user_id"] == bo.id and row["history"]["direction"] == "in"
        cecilia_ws.wait_for("history.added for Cecilia", lambda m: m.get("type") == "history.added")
        time.sleep(0.5)
        assert {m["history"]["user_id"] for m in bo_ws.of_type("history.")} == {bo.id}
        assert {m["history"]["user_id"] for m in cecilia_ws.of_type("history.")} <= {cecilia.id}
        assert david_ws.of_type("call.") == [] and david_ws.of_type("history.") == []
