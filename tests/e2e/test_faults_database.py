"""PostgreSQL stopped and started under the running stack (issue 13): the API answers 503 within a
second, registered phones stay registered and their calls go on, and nothing saved is lost.

The e2e stack's own cluster is stopped (pg_ctl stop -m fast, as a restart of the server does),
not a proxy: Asterisk's realtime and the control service lose their connections for real."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import until
from tests.support.faults import calls_completed, counts, phone_ports
from tests.support.provision import PASSWORD, User, new_org
from tests.support.sipp import Phone
from tests.support.sipp_injection import final_outcome, invite_any_outcome

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

BOUND_S = 1.0
SETTLE_S = 0.3
_ports = phone_ports


def phone(e2e: E2E, user: User) -> Phone:
    d = user.devices[0]
    p = Phone(d.sip_username, d.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    p.register()
    return p


def timed(base: str, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)  # noqa: S310
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=5) as r:  # noqa: S310
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    return status, json.loads(raw) if raw else None, time.monotonic() - started


def saved(anna: Api, admin: Api) -> dict[str, Any]:
    """What the organization saved, as the API shows it."""
    return {
        "settings": anna.get("/users/me/settings"),
        "contacts": anna.get("/users/me/contacts"),
        "users": admin.get("/users"),
        "caller_lists": anna.get("/users/me/caller-lists"),
    }


def test_postgresql_stopped_and_started_under_calls(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="fdb")
    anna_u, bo_u = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    cilla_u = org.add_user("1003", "Cilla")
    org.add_user("1004", "Dan", devices=0)  # called during the outage: no phone to disturb
    pa, pb, pc = phone(e2e, anna_u), phone(e2e, bo_u), phone(e2e, cilla_u)
    anna = Api(e2e.control.api).login(anna_u.username, PASSWORD)
    anna.request("PUT", "/users/me/settings", {"forward_busy": "1002"}, expect=200)
    contact = {"name": "Berit Lund", "numbers": [{"number": "070-123 45 67"}]}
    anna.post("/users/me/contacts", contact, expect=201)
    anna.post("/users/me/caller-lists", {"number": "+46701112233", "kind": "blocked"}, expect=201)
    before = saved(anna, org.admin)

    answering = pb.answer(timeout_s=40)
    time.sleep(SETTLE_S)
    call = pa.call("1002", hold_ms=5000, timeout_s=40, wait=False)
    until("the call up", lambda: any(c["bridged"] for c in anna.get("/calls")), 10)

    requests: list[tuple[str, str, str | None, Any]] = [
        ("POST", "/auth/login", None, {"username": anna_u.username, "password": PASSWORD}),
        ("GET", "/users/me", anna.token, None),
        ("GET", "/users/me/settings", anna.token, None),
        ("PUT", "/users/me/settings", anna.token, {"forward_busy": None}),
        ("POST", "/users/me/contacts", anna.token, {"name": "Lost", "numbers": [{"number": "1002"}]}),
        ("GET", "/users", org.admin.token, None),
        ("GET", "/groups", org.admin.token, None),
    ]
    answers: list[tuple[str, int, str, float]] = []
    cluster = e2e.stack.cluster
    cluster.stop()
    try:
        for _round in range(2):
            for method, path, token, body in requests:
                status, reply, took = timed(e2e.control.api, method, path, token, body)
                code = (reply or {}).get("error", {}).get("code", "")
                answers.append((f"{method} {path}", status, code, took))
        # Registered phones stay registered: a refresh of the registration is accepted.
        pc.register()
        # A new call cannot be routed without the database: it is refused, it does not hang.
        started = time.monotonic()
        cilla = cilla_u.devices[0]
        xml = invite_any_outcome(b"1004", cilla.sip_username.encode(), b"Cilla", auth=True)
        during = final_outcome(pc.run(xml, timeout_s=8))
        during_s = time.monotonic() - started
    finally:
        cluster.start()
    assert call.wait(30) == 0, call.explain()
    answering.wait(10)

    until("the API back", lambda: timed(e2e.control.api, "GET", "/users/me", anna.token)[0] == 200, 20)
    after = saved(anna, org.admin)
    lost = [k for k in before if before[k] != after[k]]
    answering = pc.answer(timeout_s=15)  # Cilla, at the contact she refreshed in the outage
    time.sleep(SETTLE_S)
    again = pa.call("1003", hold_ms=300, timeout_s=15)
    wrong = [a for a in answers if a[1] != 503 or a[2] != "database_unavailable" or a[3] > BOUND_S]
    line = counts(
        "faults/postgresql-restart",
        api_requests=len(answers),
        not_503_within_1s=len(wrong),
        slowest_s=round(max(a[3] for a in answers), 2),
        registrations_refreshed="1/1",
        call_across_outage=f"{calls_completed(call)}/1",
        new_call_during_outage=f"{during} in {during_s:.1f}s",
        data_lost=len(lost),
    )
    assert wrong == [], (wrong, line)
    assert during.startswith("refused") and during_s < 8, line
    assert lost == [], (lost, before, after)
    assert again.returncode == 0, again.explain()
