"""Call history with real calls: SIPp phones and carrier, Asterisk writing CEL into PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import PASSWORD, Device, Org, User, new_org
from tests.support.sipp import Phone, SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.history]

SETTLE_S = 0.3
# Phones from base+4000 (media at SIP + 10000), clear of the other e2e files' ranges and of a suite
# on another base.
_ports = itertools.count(TEST_PORT_BASE + 4000, 10)


def sql(e2e: E2E, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def new_phone(e2e: E2E, device: Device) -> Phone:
    p = Phone(device.sip_username, device.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    p.register()
    return p


def ok(run: SippRun, timeout_s: float = 20) -> None:
    assert run.wait(timeout_s) == 0, run.explain()


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.2)
    return result


def history(org: Org, user: User, filter_: str = "all") -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = org.admin.login(user.username, PASSWORD).get(
        f"/users/me/history?filter={filter_}"
    )["items"]
    return items


def call_rows(org: Org, user: User, n: int = 1) -> list[dict[str, Any]]:
    """The user's newest history rows once there are n (the trigger runs when the call is gone)."""

    def enough() -> list[dict[str, Any]] | None:
        h = history(org, user)
        return h if len(h) >= n else None

    rows: list[dict[str, Any]] = wait_for(f"{n} history rows of {user.extension}", enough)
    return rows


@pytest.fixture
def org(platform: Api) -> Org:
    return new_org(platform, prefix="hist")


def test_an_answered_internal_call_is_in_both_histories(e2e: E2E, org: Org) -> None:
    anna, bo = org.add_user("1001", "Anna Svensson"), org.add_user("1002", "Bo Ek")
    pa, pb = new_phone(e2e, anna.devices[0]), new_phone(e2e, bo.devices[0])
    answering = pb.answer()
    time.sleep(SETTLE_S)
    ok(pa.call("1002", hold_ms=2200))
    ok(answering)
    placed = call_rows(org, anna)[0]
    assert placed["direction"] == "out" and placed["result"] == "answered" and not placed["missed"]
    assert placed["peer_number"] == "1002" and placed["peer_name"] == "Bo Ek"
    assert placed["device"]["sip_username"] == anna.devices[0].sip_username
    assert 1 <= placed["duration_s"] <= 4
    received = call_rows(org, bo)[0]
    assert received["direction"] == "in" and received["result"] == "answered" and received["seen"]
    assert received["peer_number"] == "1001" and received["peer_name"] == "Anna Svensson"
    assert received["device"]["sip_username"] == bo.devices[0].sip_username
    assert history(org, bo, "missed") == []


def test_an_inbound_call_from_the_carrier(e2e: E2E, org: Org) -> None:
    anna = org.add_user("1001", "Anna")
    org.add_number("+46812347001", anna)
    pa = new_phone(e2e, anna.devices[0])
    answering = pa.answer()
    time.sleep(SETTLE_S)
    ok(e2e.carrier(CARRIER_PORT + 4).call("+46812347001", auth=False, from_user="+46701112299"))
    ok(answering)
    row = call_rows(org, anna)[0]
    assert row["direction"] == "in" and row["result"] == "answered"
    assert row["peer_number"] == "+46701112299"


def test_a_missed_call_then_seen(e2e: E2E, org: Org) -> None:
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    org.admin.request("PATCH", f"/users/{bo.id}", {"ring_time": 5}, expect=200)
    pa, pb = new_phone(e2e, anna.devices[0]), new_phone(e2e, bo.devices[0])
    ringing = pb.ring(timeout_s=15)
    time.sleep(SETTLE_S)
    ok(pa.call("1002", hold_ms=1500))  # rings 5 s, nobody answers, the voicemail box takes it
    ok(ringing)
    row = call_rows(org, bo)[0]
    assert row["direction"] == "in" and row["missed"] and not row["seen"] and row["device"] is None
    assert row["result"] == "voicemail"
    assert [r["id"] for r in history(org, bo, "missed")] == [row["id"]]
    bo_api = org.admin.login(bo.username, PASSWORD)
    assert bo_api.get("/users/me/history")["unseen_missed"] == 1
    assert bo_api.post(f"/users/me/history/{row['id']}/seen", expect=200)["unseen_missed"] == 0
    assert history(org, bo)[0]["seen"]
    assert call_rows(org, anna)[0]["result"] == "voicemail"


def test_a_call_that_went_to_voicemail(e2e: E2E, org: Org) -> None:
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    org.add_user("1003", "Cia")
    bo_api = org.admin.login(bo.username, PASSWORD)
    bo_api.request("PUT", "/users/me/settings", {"closed": True}, expect=200)  # straight to voicemail
    pa = new_phone(e2e, anna.devices[0])
    new_phone(e2e, bo.devices[0])
    time.sleep(SETTLE_S)
    ok(pa.call("1002", hold_ms=2500))
    row = call_rows(org, bo)[0]
    assert row["result"] == "voicemail" and row["voicemail"] and row["missed"]
    assert row["duration_s"] >= 1
    assert [r["id"] for r in history(org, bo, "voicemail")] == [row["id"]]
    placed = call_rows(org, anna)[0]
    assert placed["direction"] == "out" and placed["result"] == "voicemail"


def test_a_group_call_nobody_answered_is_missed_by_every_member(e2e: E2E, org: Org) -> None:
    a, b, c = org.add_user("1001", "Anna"), org.add_user("1002", "Bo"), org.add_user("1003", "Caller")
    o = org.add_user("1004", "Overflow")
    group = org.admin.post(
        "/groups",
        {
            "extension": "20",
            "name": "Support",
            "ring_time": 3,
            "max_wait": 4,
            "members": [{"user_id": a.id}, {"user_id": b.id}],
            "overflow": {"kind": "voicemail", "user_id": o.id},
        },
        expect=201,
    )
    for u in (a, b):
        org.admin.login(u.username, PASSWORD).post(f"/groups/{group['id']}/login", {}, expect=200)
    pa, pb, pc = (new_phone(e2e, u.devices[0]) for u in (a, b, c))
    ring_a, ring_b = pa.ring(timeout_s=15), pb.ring(timeout_s=15)
    time.sleep(SETTLE_S)
    ok(pc.call("20", hold_ms=1500, timeout_s=25))  # nobody answers: the overflow box takes it
    for u in (a, b):
        row = call_rows(org, u)[0]
        assert row["direction"] == "in" and row["result"] == "missed" and row["missed"], row
        assert row["peer_number"] == "1003"
    assert call_rows(org, o)[0]["result"] == "voicemail"
    ring_a.wait(5)
    ring_b.wait(5)


def test_a_group_call_a_colleague_took_is_answered_elsewhere(e2e: E2E, org: Org) -> None:
    a, b, c = org.add_user("1001", "Anna"), org.add_user("1002", "Bo"), org.add_user("1003", "Caller")
    group = org.admin.post(
        "/groups",
        {
            "extension": "21",
            "name": "Sales",
            "ring_time": 10,
            "max_wait": 20,
            "members": [{"user_id": a.id}, {"user_id": b.id}],
        },
        expect=201,
    )
    for u in (a, b):
        org.admin.login(u.username, PASSWORD).post(f"/groups/{group['id']}/login", {}, expect=200)
    pa, pb, pc = (new_phone(e2e, u.devices[0]) for u in (a, b, c))
    answering, ringing = pa.answer(answer_after_ms=1000), pb.ring(timeout_s=15)
    time.sleep(SETTLE_S)
    ok(pc.call("21", hold_ms=800, timeout_s=25))
    ok(answering)
    assert call_rows(org, a)[0]["result"] == "answered"
    row = call_rows(org, b)[0]
    assert row["result"] == "answered_elsewhere" and not row["missed"]
    ringing.wait(5)


def test_a_call_while_the_control_service_is_stopped_is_still_recorded(e2e: E2E, org: Org) -> None:
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    pa, pb = new_phone(e2e, anna.devices[0]), new_phone(e2e, bo.devices[0])
    e2e.control.stop()
    try:
        answering = pb.answer()
        time.sleep(SETTLE_S)
        ok(pa.call("1002", hold_ms=1000))  # rung by the dialplan's fallback, from PostgreSQL
        ok(answering)

        def written() -> list[asyncpg.Record] | None:
            r = sql(
                e2e, "SELECT user_id, direction, result FROM call_history WHERE organization_id = $1", org.id
            )
            return r if len(r) == 2 else None

        rows = wait_for("rows written without the service", written)
        assert {(r["user_id"], r["direction"], r["result"]) for r in rows} == {
            (anna.id, "out", "answered"),
            (bo.id, "in", "answered"),
        }
    finally:
        e2e.control.start()
    assert call_rows(org, bo)[0]["result"] == "answered"
