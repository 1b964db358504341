"""Announced transfer ("Koppla med avisering") through the real Asterisk: Anna calls Bo, Bo's app
starts a transfer to Cecilia (Anna hears music on hold, Bo's phone talks to Cecilia), then
completes, cancels, or Cecilia declines or does not answer, or Bo hangs up."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.events_ws import EventSocket
from tests.support.provision import Org, User, new_org
from tests.support.sipp import SippRun, header

pytestmark = [pytest.mark.e2e, pytest.mark.calls]


def state_of(api: Api, transfer: dict, state: str, timeout_s: float = 15) -> dict:
    path = f"/calls/transfers/{transfer['id']}"
    return until(f"transfer {state}", lambda: (t := api.get(path)) and t["state"] == state and t, timeout_s)


def health(e2e: E2E) -> dict:
    return Api(e2e.control.api).request("GET", "/health", check=False)


def identities(run: SippRun, method: str = "INVITE") -> list[str]:
    """From and P-Asserted-Identity of every such request the phone received."""
    return [f"{header(m, 'From')} | {header(m, 'P-Asserted-Identity')}" for m in run.received(method)]


@pytest.fixture
def office(e2e: E2E, platform: Api) -> tuple[Org, User, User, User]:
    org = new_org(platform)
    return (
        org,
        org.add_user("1001", "Anna Svensson"),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cecilia Berg"),
    )


def start(e2e: E2E, office: tuple, *, anna_hold_ms: int = 12000) -> tuple[Api, dict, SippRun, SippRun]:
    """Anna calls Bo, Bo answers; returns Bo's app, his call, Anna's call and Bo's phone run."""
    _, anna, bo, _ = office
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_app = app(e2e, bo)
    b_answers = b.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=anna_hold_ms, wait=False, timeout_s=40, remote_may_hang_up=True)
    return bo_app, answered_call(bo_app), call, b_answers


def test_completed_connects_the_caller_with_the_recipient_and_frees_the_user(e2e: E2E, office: tuple) -> None:
    cecilia = office[3]
    c_answers = phone(e2e, cecilia).answer(answer_after_ms=500, timeout_s=40)
    bo_app, mine, call, b_answers = start(e2e, office, anna_hold_ms=6000)

    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    assert transfer["state"] == "ringback" and transfer["to"] == "1003"
    again = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=409)
    assert again["error"]["code"] == "transfer_in_progress"
    state_of(bo_app, transfer, "answered")
    time.sleep(0.5)
    done = bo_app.post(f"/calls/transfers/{transfer['id']}/complete", {})
    assert (done["state"], done["reason"]) == ("completed", "completed")

    ok(b_answers)  # Bo's phone is hung up
    ok(call, 40)  # Anna talks to Cecilia, then hangs up
    ok(c_answers)  # and Cecilia gets the BYE
    assert "Bo Ek" in c_answers.received("INVITE")[0], "the recipient was to see who calls: Bo"
    # Connected line: each phone is told who it talks to now.
    assert any("Cecilia Berg" in i for i in identities(call)), identities(call)
    assert any("Anna Svensson" in i for i in identities(c_answers)[1:]), identities(c_answers)
    assert bo_app.get("/calls") == []


def test_cancelled_brings_the_user_back_to_the_caller(e2e: E2E, office: tuple) -> None:
    cecilia = office[3]
    c_answers = phone(e2e, cecilia).answer(timeout_s=40)
    bo_app, mine, call, b_answers = start(e2e, office, anna_hold_ms=8000)
    with EventSocket(bo_app) as bo_ws:
        transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
        state_of(bo_app, transfer, "answered")
        done = bo_app.post(f"/calls/transfers/{transfer['id']}/cancel", {})
        assert (done["state"], done["reason"]) == ("cancelled", "cancelled")
        told = bo_ws.wait_for("transfer.cancelled", lambda m: m.get("type") == "transfer.cancelled")
        assert (told["transfer"]["id"], told["transfer"]["reason"]) == (transfer["id"], "cancelled")
    ok(c_answers)  # Cecilia's leg ends
    back = answered_call(bo_app)
    assert back["id"] == mine["id"] and back["peer_number"] == "1001"
    ok(call, 40)  # Anna, talking to Bo again, hangs up
    ok(b_answers)
    assert bo_app.post(f"/calls/transfers/{transfer['id']}/complete", {}, expect=409)


@pytest.mark.parametrize("how", ["busy", "no_answer"])
def test_a_recipient_who_declines_or_does_not_answer_sends_the_user_back(
    e2e: E2E, office: tuple, how: str
) -> None:
    org, _, _, cecilia = office
    c = phone(e2e, cecilia)
    if how == "busy":
        c_run = c.busy(timeout_s=40)
    else:
        org.admin.request("PATCH", f"/users/{cecilia.id}", {"ring_time": 5}, expect=200)
        c_run = c.ring(timeout_s=40)
    bo_app, mine, call, b_answers = start(e2e, office, anna_hold_ms=14000)
    with EventSocket(bo_app) as bo_ws:
        transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
        declined = state_of(bo_app, transfer, "declined", timeout_s=20)
        assert declined["reason"] == how
        told = bo_ws.wait_for("transfer.declined", lambda m: m.get("type") == "transfer.declined")
        assert (told["transfer"]["id"], told["transfer"]["reason"]) == (transfer["id"], how)
    ok(c_run)
    back = answered_call(bo_app)
    assert back["id"] == mine["id"] and back["peer_number"] == "1001"
    bo_app.post("/calls/hangup", {"call": mine["id"]}, expect=204)
    ok(call, 40)
    ok(b_answers)


def test_the_user_hanging_up_during_the_consultation_completes(e2e: E2E, office: tuple) -> None:
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app, cecilia_app = app(e2e, bo), app(e2e, cecilia)
    a_answers, c_answers = a.answer(timeout_s=40), c.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = b.call("1001", hold_ms=5000, wait=False, timeout_s=40, remote_may_hang_up=True)  # Bo calls Anna
    mine = answered_call(bo_app)
    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    state_of(bo_app, transfer, "answered")
    ok(call)  # Bo hangs up while talking to Cecilia
    done = state_of(bo_app, transfer, "completed")
    assert done["reason"] == "completed"
    joined = until("Cecilia talking to Anna", lambda: [x for x in cecilia_app.get("/calls") if x["bridged"]])
    assert joined[0]["peer_number"] == "1001"
    cecilia_app.post("/calls/hangup", {"call": joined[0]["id"]}, expect=204)
    ok(a_answers)
    ok(c_answers)


def test_the_user_hanging_up_while_the_recipient_rings_makes_it_a_blind_transfer(
    e2e: E2E, office: tuple
) -> None:
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app, anna_app = app(e2e, bo), app(e2e, anna)
    a_answers, c_rings = a.answer(timeout_s=40), c.ring(timeout_s=40)
    time.sleep(SETTLE_S)
    call = b.call("1001", hold_ms=3000, wait=False, timeout_s=40, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    ok(call)  # Bo hangs up while Cecilia's phone rings
    done = state_of(bo_app, transfer, "completed")
    assert done["reason"] == "blind"
    ok(c_rings)  # the consultation's ringing was cancelled ...
    # ... and Anna's call, routed anew to 1003, is up and talking to nobody yet (not back on hold).
    ringing = until(
        "Anna's call routed on", lambda: [x for x in anna_app.get("/calls") if x["state"] == "Up"]
    )
    assert not ringing[0]["bridged"]
    anna_app.post("/calls/hangup", {"call": ringing[0]["id"]}, expect=204)
    ok(a_answers)


def test_another_organizations_call_or_transfer_is_a_404(e2e: E2E, platform: Api, office: tuple) -> None:
    cecilia = office[3]
    stranger_app = app(e2e, new_org(platform).add_user("1002", "Stranger"))
    colleague_app = app(e2e, cecilia)
    c_answers = phone(e2e, cecilia).answer(timeout_s=40)
    bo_app, mine, call, b_answers = start(e2e, office, anna_hold_ms=6000)
    for asker in (stranger_app, colleague_app):
        r = asker.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=404)
        assert r["error"]["code"] == "call_not_found"
    bad = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "10; Hangup"}, expect=400)
    assert bad["error"]["code"] == "validation_error"
    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    for asker in (stranger_app, colleague_app):
        asker.get(f"/calls/transfers/{transfer['id']}", expect=404)
        asker.post(f"/calls/transfers/{transfer['id']}/complete", {}, expect=404)
    state_of(bo_app, transfer, "answered")
    bo_app.post(f"/calls/transfers/{transfer['id']}/complete", {})
    ok(b_answers)
    ok(call, 40)
    ok(c_answers)


@pytest.mark.parametrize("how", ["restart", "crash"])
def test_asterisk_restarting_during_a_transfer_leaves_no_ghost_transfer(
    e2e: E2E, office: tuple, how: str
) -> None:
    """The stack's own restart (core stop now) hangs the calls up and AMI tells it: the transfer
    ends as after any hang-up. A crash (SIGKILL) tells nothing: after the reconnection the transfer is
    found without its channels and ends (abandoned, channel_gone)."""
    _, anna, bo, cecilia = office
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app, anna_app, cecilia_app = app(e2e, bo), app(e2e, anna), app(e2e, cecilia)
    runs = [c.ring(timeout_s=60), b.answer(timeout_s=60)]
    time.sleep(SETTLE_S)
    runs.append(a.call("1002", hold_ms=30000, wait=False, timeout_s=60, remote_may_hang_up=True))
    mine = answered_call(bo_app)
    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    assert transfer["state"] == "ringback"
    path = f"/calls/transfers/{transfer['id']}"

    asterisk = e2e.stack.asterisk_instance()
    if how == "crash":
        assert asterisk.pid is not None
        os.kill(asterisk.pid, signal.SIGKILL)
    asterisk.stop()
    until("AMI loss noticed", lambda: health(e2e)["ami"]["connected"] is False)
    # Asterisk away: the API answers at once, and the failed request changes nothing.
    before = bo_app.get(path)
    began = time.monotonic()
    away = bo_app.request("POST", path + "/complete", {}, check=False)
    assert time.monotonic() - began < 1
    assert (bo_app.last_status, away["error"]["code"]) in ((503, "ami_unavailable"), (409, "transfer_state"))
    assert bo_app.get(path) == before
    for run in runs:
        run.stop()  # the phones' dialogs died with Asterisk
    asterisk.start()
    until("AMI ready again", lambda: health(e2e)["ami"]["ok"] is True, 30)
    # the live model is re-derived just after: until then GET /calls is a 503 (no ghost shown)
    until(
        "calls known again",
        lambda: bo_app.request("GET", "/calls", None, check=False) is not None and bo_app.last_status == 200,
        10,
    )

    # No ghost: no call in anybody's app, the transfer is over.
    for who in (bo_app, anna_app, cecilia_app):
        assert who.get("/calls") == []
    gone = bo_app.get(path)
    if how == "crash":
        assert (gone["state"], gone["reason"]) == ("abandoned", "channel_gone")
    else:  # Asterisk hung both parties up, in its own order: whichever Hangup came first ended it
        assert gone["state"] in ("abandoned", "completed"), gone

    # A fresh call between the same users transfers again (no 409), and is cancelled. The phones
    # register again first (a crash can lose the last second's registrations from astdb).
    for p in (a, b, c):
        p.register()
    c_rings, b_answers = c.ring(timeout_s=40), b.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=4000, wait=False, timeout_s=40, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    again = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    assert again["state"] == "ringback" and again["id"] != transfer["id"]
    until("Cecilia's phone ringing", lambda: cecilia_app.get("/calls"))
    done = bo_app.post(f"/calls/transfers/{again['id']}/cancel", {})
    assert (done["state"], done["reason"]) == ("cancelled", "cancelled")
    ok(c_rings)
    ok(call, 40)
    ok(b_answers)
