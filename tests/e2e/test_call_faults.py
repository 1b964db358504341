"""Call control with a frozen Asterisk (SIGSTOP, a real process that stops answering AMI): a
transfer, a hold and a park each answer within their deadline with a JSON 504, and the call is as
it was when Asterisk goes on (SIGCONT); so does completing a transfer, which then stays answered
and completes once Asterisk answers again. A meeting host's room actions have the same deadline."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pbx_control.callcontrol.http import CALL_DEADLINE_S, PARK_DEADLINE_S
from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import SETTLE_S, answered_call, app, ok, phone, until
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.calls, pytest.mark.faults]

SLACK_S = 1.0  # HTTP and scheduling on a loaded machine


def timed(api: Api, path: str, body: dict[str, Any]) -> tuple[int | None, Any, float]:
    began = time.monotonic()
    answer = api.request("POST", path, body, check=False)
    return api.last_status, answer, time.monotonic() - began


def test_a_frozen_asterisk_is_a_504_within_the_deadline_and_changes_nothing(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna Svensson"), org.add_user("1002", "Bo Ek")
    org.add_user("1003", "Cecilia Berg")
    a, b = phone(e2e, anna), phone(e2e, bo)
    bo_apps = [app(e2e, bo) for _ in range(3)]  # one client per concurrent request
    b_answers = b.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=5000, wait=False, timeout_s=40)
    mine = answered_call(bo_apps[0])
    requests = {
        "transfer": ("/calls/transfers", {"call": mine["id"], "to": "1003"}, CALL_DEADLINE_S),
        "hold": ("/calls/hold", {"call": mine["id"]}, CALL_DEADLINE_S),
        "park": ("/calls/park", {"call": mine["id"]}, PARK_DEADLINE_S),
    }
    pid = e2e.stack.asterisk_instance().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            futures = {
                name: pool.submit(timed, api, path, body)
                for api, (name, (path, body, _)) in zip(bo_apps, requests.items(), strict=True)
            }
            answers = {name: future.result(timeout=30) for name, future in futures.items()}
    finally:
        os.kill(pid, signal.SIGCONT)
    # Under the AMI Ping watchdog's 5 s: the connection stays, Asterisk answers the first actions late.
    for name, (status, body, took) in answers.items():
        assert (status, body["error"]["code"]) == (504, "ami_timeout"), (name, body)
        assert took < requests[name][2] + SLACK_S, (name, took)

    # Asterisk goes on: the call is as it was (connected, not held, parked or being transferred).
    time.sleep(0.5)
    now = answered_call(bo_apps[0])
    assert (now["id"], now["held"], now["peer_number"]) == (mine["id"], False, "1001")
    assert bo_apps[0].get("/calls/parked") == []
    ok(call, 30)  # Anna hangs up after her hold time, still talking to Bo
    ok(b_answers)
    assert len(call.received("BYE")) == 0 and len(call.received("INVITE")) == 0


def test_completing_a_transfer_with_a_frozen_asterisk_is_a_504_and_the_transfer_stays(
    e2e: E2E, platform: Api
) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna Svensson"), org.add_user("1002", "Bo Ek")
    cecilia = org.add_user("1003", "Cecilia Berg")
    a, b, c = phone(e2e, anna), phone(e2e, bo), phone(e2e, cecilia)
    bo_app, cecilia_app = app(e2e, bo), app(e2e, cecilia)
    b_answers, c_answers = b.answer(timeout_s=40), c.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = a.call("1002", hold_ms=15000, wait=False, timeout_s=40, remote_may_hang_up=True)
    mine = answered_call(bo_app)
    transfer = bo_app.post("/calls/transfers", {"call": mine["id"], "to": "1003"}, expect=201)
    path = f"/calls/transfers/{transfer['id']}"
    until("Cecilia answered", lambda: bo_app.get(path)["state"] == "answered")

    pid = e2e.stack.asterisk_instance().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        status, body, took = timed(bo_app, path + "/complete", {})
    finally:
        os.kill(pid, signal.SIGCONT)
    assert (status, body["error"]["code"]) == (504, "ami_timeout")
    assert took < CALL_DEADLINE_S + SLACK_S
    assert bo_app.get(path)["state"] == "answered"  # not completed: nothing was done

    done = bo_app.post(path + "/complete", {})  # Asterisk answers again: it completes
    assert done["state"] == "completed"
    joined = until("Cecilia talking to Anna", lambda: [x for x in cecilia_app.get("/calls") if x["bridged"]])
    assert joined[0]["peer_number"] == "1001"
    ok(b_answers)  # Bo's phone is free
    cecilia_app.post("/calls/hangup", {"call": joined[0]["id"]}, expect=204)
    ok(call)
    ok(c_answers)


def test_a_meeting_host_with_a_frozen_asterisk_gets_504_within_the_deadline(e2e: E2E, platform: Api) -> None:
    """The meeting room's actions (lock, mute everyone, ring a device in) wait no longer than call
    control does."""
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna Svensson"), org.add_user("1002", "Bo Ek")
    bo_apps = [app(e2e, bo) for _ in range(3)]
    meeting = bo_apps[0].post("/meetings", {"name": "Avstämning"}, expect=201)
    room = f"/meetings/{meeting['id']}"
    a = phone(e2e, anna)
    rings = a.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    app(e2e, anna).post(f"{room}/join", {}, expect=204)
    until("Anna in the room", lambda: bo_apps[0].get(f"{room}/participants")["participants"], timeout_s=20)
    requests = {
        "lock": (f"{room}/lock", {"locked": True}),
        "mute-all": (f"{room}/mute-all", {"muted": True}),
        "join": (f"{room}/join", {}),
    }
    pid = e2e.stack.asterisk_instance().pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(len(requests)) as pool:
            futures = {
                name: pool.submit(timed, api, path, body)
                for api, (name, (path, body)) in zip(bo_apps, requests.items(), strict=True)
            }
            answers = {name: future.result(timeout=30) for name, future in futures.items()}
    finally:
        os.kill(pid, signal.SIGCONT)
    for name, (status, body, took) in answers.items():
        assert (status, body["error"]["code"]) == (504, "ami_timeout"), (name, body)
        assert took < CALL_DEADLINE_S + SLACK_S, (name, took)
    # Asterisk goes on; Anna is still in the room and the host can act again.
    people = bo_apps[0].get(f"{room}/participants")["participants"]
    assert [p["name"] for p in people] == ["Anna Svensson"]
    bo_apps[0].request("DELETE", f"{room}/participants/{people[0]['id']}", expect=204)
    ok(rings, 30)
