"""Answer groups through the real Asterisk (realtime queues) with SIPp phones."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from datetime import datetime
from typing import Any

import asyncpg
import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import PASSWORD, Device, Org, User, new_org
from tests.support.sipp import Phone, SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.groups]
SETTLE_S = 0.3
GROUP = "20"


def sql(e2e: E2E, query: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


# Phones from base+6000 (SIP; media at SIP + 10000): the shared phone counter starts at base+2000,
# where a suite on base-10000 puts its media ports (seen colliding with PBX_TEST_PORT_BASE=20000).
_ports = itertools.count(TEST_PORT_BASE + 6000, 10)


def new_phone(e2e: E2E, device: Device) -> Phone:
    p = Phone(device.sip_username, device.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    p.register()
    return p


def phone(e2e: E2E, user: User) -> Phone:
    return new_phone(e2e, user.devices[0])


def as_user(org: Org, user: User) -> Api:
    return org.admin.login(user.username, PASSWORD)


def ok(run: SippRun, timeout_s: float = 20) -> None:
    assert run.wait(timeout_s) == 0, run.explain()


def times(run: SippRun, start: str) -> list[datetime]:
    """When messages starting with `start` were received (from the -trace_msg separators)."""
    out = []
    for m in re.finditer(
        r"^-{20,} (\S+ \S+)\s*\n(?:.*\n)*?(?:.*message received.*)\n\n?(.*)$", run.messages, re.M
    ):
        if m.group(2).startswith(start):
            out.append(datetime.fromisoformat(m.group(1)))
    return out


class Setup:
    """An organization with members A and B, a caller C and an overflow user O; group 20."""

    def __init__(self, e2e: E2E, platform: Api, **group: Any) -> None:
        self.e2e = e2e
        self.org = new_org(platform, prefix="grp")
        self.a = self.org.add_user("1001", "Anna")
        self.b = self.org.add_user("1002", "Bo")
        self.c = self.org.add_user("1003", "Caller")
        self.o = self.org.add_user("1004", "Overflow")
        body = {
            "extension": GROUP,
            "name": "Support",
            "ring_time": 3,
            "max_wait": 15,
            "members": [{"user_id": self.a.id}, {"user_id": self.b.id}],
            "overflow": {"kind": "user", "user_id": self.o.id},
            **group,
        }
        if group.get("number"):  # the platform assigns it; the group takes the organization's number
            platform.post(f"/organizations/{self.org.id}/numbers", {"number": group["number"]}, expect=201)
        self.group = self.org.admin.post("/groups", body, expect=201)
        self.gid = self.group["id"]
        self.pa, self.pb, self.pc, self.po = (phone(e2e, u) for u in (self.a, self.b, self.c, self.o))

    def login(self, *users: User) -> None:
        for u in users:
            as_user(self.org, u).post(f"/groups/{self.gid}/login", {}, expect=200)

    def logout(self, *users: User) -> None:
        for u in users:
            as_user(self.org, u).post(f"/groups/{self.gid}/logout", {}, expect=200)

    def call(self, number: str = GROUP, **kw: Any) -> SippRun:
        time.sleep(SETTLE_S)
        return self.pc.call(number, **kw)

    def get(self) -> dict:
        return self.org.admin.get(f"/groups/{self.gid}")


def test_ring_all_rings_both_logged_in_members(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.login(s.a, s.b)
    answering = s.pa.answer(answer_after_ms=1500)
    ringing = s.pb.ring()
    ok(s.call())
    ok(answering)
    ok(ringing)
    assert ringing.received("INVITE") and ringing.received("CANCEL")  # rang at the same time, then cancelled
    assert '"Caller"' in answering.received("INVITE")[0]


def test_in_order_rings_one_after_the_other(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform, strategy="linear", ring_time=2)
    s.login(s.b, s.a)  # login order does not matter: the list order does (A first)
    first = s.pa.ring(timeout_s=15)
    second = s.pb.answer()
    ok(s.call(timeout_s=25))
    ok(first)
    ok(second)
    cancelled_a = times(first, "CANCEL")[0]
    invited_b = times(second, "INVITE")[0]
    assert cancelled_a <= invited_b  # B was rung only after A's ring time was over


def test_a_logged_out_member_is_not_rung(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.login(s.a, s.b)
    s.logout(s.b)
    answering = s.pa.answer(answer_after_ms=1000)
    bystander = s.pb.answer(timeout_s=4)
    ok(s.call())
    ok(answering)
    bystander.wait(10)
    assert bystander.received("INVITE") == []
    members = {m["user_id"]: m for m in s.get()["members"]}
    assert members[s.a.id]["logged_in"] and not members[s.b.id]["logged_in"]


def test_a_member_on_another_call_is_skipped(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.login(s.a, s.b)
    busy_b = s.pb.answer(answer_after_ms=100, timeout_s=20)
    time.sleep(SETTLE_S)
    direct = s.po.call("1002", hold_ms=5000, wait=False)
    deadline = time.monotonic() + 10
    while not busy_b.received("ACK") and time.monotonic() < deadline:
        time.sleep(0.1)
    answering = s.pa.answer(answer_after_ms=1000)
    ok(s.call())
    ok(answering)
    ok(direct)
    ok(busy_b)
    assert len(busy_b.received("INVITE")) == 1  # only the direct call, never the group call


def test_a_member_in_a_meeting_is_skipped_and_rung_again_after_it(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.login(s.a, s.b)
    sql(e2e, "INSERT INTO user_activities (user_id, kind, until) VALUES ($1, 'meeting', NULL)", s.b.id)
    b_member = next(m for m in s.get()["members"] if m["user_id"] == s.b.id)
    assert b_member["logged_in"] and b_member["paused"]  # paused, not logged out
    answering = s.pa.answer(answer_after_ms=1000)
    bystander = s.pb.answer(timeout_s=5)
    ok(s.call())
    ok(answering)
    bystander.wait(10)
    assert bystander.received("INVITE") == []

    sql(e2e, "UPDATE user_activities SET until = now() - interval '1 second' WHERE user_id = $1", s.b.id)
    ringing = s.pa.ring()
    answering = s.pb.answer(answer_after_ms=1000)
    ok(s.call())
    ok(answering)
    ok(ringing)


def test_nobody_logged_in_goes_to_overflow(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    overflow = s.po.answer()
    ok(s.call())
    ok(overflow)


def test_the_maximum_wait_goes_to_overflow(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform, ring_time=2, max_wait=4)
    s.login(s.a)
    ringing = s.pa.ring(timeout_s=15)
    overflow = s.po.answer(timeout_s=20)
    ok(s.call(timeout_s=25))
    ok(overflow)
    ok(ringing)
    assert times(ringing, "INVITE")[0] < times(overflow, "INVITE")[0]


@pytest.mark.parametrize("strategy", ["rrmemory", "leastrecent", "fewestcalls"])
def test_the_next_call_goes_to_the_other_member(e2e: E2E, platform: Api, strategy: str) -> None:
    """Round robin remembers where it stopped; least recent and fewest calls pick the member who
    did not take the last call. (Ring all would ring both twice, in order the first one twice.)"""
    s = Setup(e2e, platform, strategy=strategy)
    s.login(s.a, s.b)
    phones = [s.pa.answer(calls=2, timeout_s=10), s.pb.answer(calls=2, timeout_s=10)]
    ok(s.call())
    ok(s.call())
    for run in phones:
        run.stop()  # both calls are over: any INVITE they would get has come
    assert sorted(len(run.received("INVITE")) for run in phones) == [1, 1]


def test_overflow_to_a_voicemail_box(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    s.org.admin.request(
        "PATCH", f"/groups/{s.gid}", {"overflow": {"kind": "voicemail", "user_id": s.o.id}}, expect=200
    )
    ok(s.call(hold_ms=1500))  # nobody logged in: O's voicemail box answers
    log = (e2e.stack.asterisk_instance().log_dir / "full.log").read_text(errors="replace")
    caller = s.c.devices[0].sip_username
    assert re.search(rf'VoiceMail\("PJSIP/{caller}-[0-9a-f]+", "1004@{s.org.slug},uS"\)', log), "no VoiceMail"


def test_a_member_busy_on_one_phone_is_not_rung_on_the_other(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    b_mobile = new_phone(e2e, s.org.add_device(s.b, "mobile"))
    s.login(s.a, s.b)
    overflow_phone = s.po.answer(timeout_s=20)
    time.sleep(SETTLE_S)
    outgoing = s.pb.call("1004", hold_ms=5000, wait=False)  # B is on a call from the desk phone
    deadline = time.monotonic() + 10
    while not overflow_phone.received("ACK") and time.monotonic() < deadline:
        time.sleep(0.1)
    bystander = b_mobile.answer(timeout_s=4)
    answering = s.pa.answer(answer_after_ms=1000)
    ok(s.call())
    ok(answering)
    ok(outgoing)
    ok(overflow_phone)
    bystander.wait(10)
    assert bystander.received("INVITE") == []  # B's mobile stayed quiet


def test_overflow_to_another_group(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    backup = s.org.admin.post(
        "/groups", {"extension": "21", "name": "Backup", "members": [{"user_id": s.b.id}]}, expect=201
    )
    as_user(s.org, s.b).post(f"/groups/{backup['id']}/login", {}, expect=200)
    s.org.admin.request(
        "PATCH", f"/groups/{s.gid}", {"overflow": {"kind": "group", "group_id": backup["id"]}}, expect=200
    )
    answering = s.pb.answer()  # nobody in 20: on to 21, where B is logged in
    ok(s.call())
    ok(answering)


def test_bad_group_input_gets_4xx_and_changes_nothing(e2e: E2E, platform: Api) -> None:
    s = Setup(e2e, platform)
    before = s.get()
    overlapping = [
        {"day": "mon", "open": "08:00", "close": "12:00"},
        {"day": "mon", "open": "11:00", "close": "13:00"},
    ]
    for body in ({"schedule": overlapping}, {"timezone": "Europe/Atlantis"}, {"strategy": "loudest"}):
        reply = s.org.admin.request("PATCH", f"/groups/{s.gid}", body, expect=400)
        assert reply["error"]["code"]
    as_user(s.org, s.c).post(f"/groups/{s.gid}/login", {}, expect=403)  # may not answer it
    s.org.admin.post("/groups/99999/login", {}, expect=404)
    assert s.get() == before


def test_a_caller_waiting_through_two_changes_of_an_in_order_group_still_reaches_a_member(
    e2e: E2E, platform: Api
) -> None:
    """Issue 13 item 8: each login or logout in an in-order group makes a new queue generation (its
    ring order is fixed when app_queue builds a queue); a caller already waiting stays in the older
    one, which must stay readable after two changes: the caller reaches the member logged in now."""
    s = Setup(e2e, platform, strategy="linear", ring_time=2, max_wait=20)
    s.login(s.a)
    ringing = s.pa.ring(timeout_s=20)  # A is rung and does not answer
    overflow = s.po.answer(timeout_s=20)
    answering = s.pb.answer(timeout_s=20)
    waiting = s.call(timeout_s=30, wait=False)
    deadline = time.monotonic() + 10
    while not ringing.received("INVITE"):
        assert time.monotonic() < deadline, "A was never rung"
        time.sleep(0.05)
    s.logout(s.a)  # a new generation
    s.login(s.b)  # and another: the caller waits two generations back
    ok(waiting, 30)
    ok(answering)
    overflow.stop()
    assert overflow.received("INVITE") == [], "the caller was sent to the overflow"
