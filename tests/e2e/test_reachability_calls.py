"""Reachability with real calls: SIPp phones and carrier, Asterisk, the control service.

Blocked callers get 486 and nothing rings; VIP rings through a meeting and a closed phone; a normal
caller hears the generated announcement (Playback seen in AMI, RTP received) and reaches voicemail;
forward-all leaves through the trunk with the chosen caller id; an expired activity rings; no
answer ends in voicemail; 001 opens one's own voicemail; the callee sees the caller's name from
their phonebook. Settings are made through the HTTP API, as a user would.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from pbx_control.reachability.sentences import until_phrase
from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.ami_events import AmiEvents
from tests.support.api import Api
from tests.support.provision import PASSWORD, Org, User, new_org
from tests.support.sipp import Phone, SippRun, header

pytestmark = [pytest.mark.e2e, pytest.mark.reachability]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed
_dids = itertools.count(1)


@dataclass
class Team:
    org: Org
    anna: User
    bo: User
    cia: User
    phones: dict[str, Phone]
    anna_api: Api
    did: str  # Anna's number


@pytest.fixture
def team(e2e: E2E, platform: Api) -> Team:
    org = new_org(platform, prefix="reach")
    anna, bo, cia = (
        org.add_user("1001", "Anna Svensson"),
        org.add_user("1002", "Bo Ek"),
        org.add_user("1003", "Cia"),
    )
    did = f"+46855{next(_dids):06d}"
    org.add_number(did, anna)
    phones = {}
    for user in (anna, bo, cia):
        phones[user.extension] = e2e.phone(user.devices[0].sip_username, user.devices[0].sip_password)
        phones[user.extension].register()
    return Team(org, anna, bo, cia, phones, Api(e2e.control.api).login(anna.username, PASSWORD), did)


@pytest.fixture
def ami(e2e: E2E) -> Iterator[AmiEvents]:
    inst = e2e.stack.asterisk_instance()
    with AmiEvents(e2e.stack.ports.ami, inst.ami_username, e2e.stack.ami_secret) as events:
        yield events


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 15) -> Any:
    """Poll until `check` gives something true (a state to reach, not a speed to measure)."""
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.1)
    return result


def sql(e2e: E2E, query: str, *args: object) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def in_a_meeting(team: Team) -> dict:
    team.anna_api.request(
        "PUT", "/users/me/activity", {"activity": "meeting", "duration_minutes": 60}, expect=200
    )
    return wait_for(
        "announcement made",
        lambda: (a := team.anna_api.get("/users/me/activity"))["announcement_ready"] and a,
    )


def not_rung(run: SippRun) -> None:
    run.wait(15)
    assert run.received("INVITE") == [], run.explain()


def ran(ami: AmiEvents, app: str, data: str = "") -> dict:
    return ami.wait_for(
        lambda e: (
            e.get("Event") == "Newexten" and e.get("Application") == app and data in e.get("AppData", "")
        ),
        what=f"{app}({data})",
    )


def test_a_blocked_caller_gets_486_and_the_callee_never_rings(e2e: E2E, team: Team) -> None:
    team.anna_api.post("/users/me/caller-lists", {"number": "1002", "kind": "blocked"}, expect=201)
    watching = team.phones["1001"].answer(timeout_s=3)
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1002"].call("1001", expect=486))
    not_rung(watching)


def test_a_vip_rings_through_a_meeting(e2e: E2E, team: Team) -> None:
    in_a_meeting(team)
    team.anna_api.post("/users/me/caller-lists", {"number": "1002", "kind": "vip"}, expect=201)
    answering = team.phones["1001"].answer()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1002"].call("1001"))
    assert answering.wait(10) == 0, answering.explain()


def test_a_caller_hears_the_announcement_then_reaches_voicemail(e2e: E2E, team: Team, ami: AmiEvents) -> None:
    activity = in_a_meeting(team)
    # The service runs on the wall clock: the end time is said as of when the sentence was made,
    # between setting the hour-long meeting and reading it ready (a midnight may lie in between).
    until, ready = datetime.fromisoformat(activity["until"]), datetime.now(UTC)
    said = {
        f"Anna Svensson är på möte {until_phrase(until, now, 'Europe/Stockholm', 'sv')}."
        for now in (until - timedelta(minutes=60), ready)
    }
    assert activity["announcement"] in said
    key = sql(e2e, "SELECT prompt FROM user_activities WHERE user_id = $1", team.anna.id)
    inst = e2e.stack.asterisk_instance()
    assert inst.host_path(f"{inst.base}/prompts/{key}.wav").is_file()  # inside the Asterisk root
    watching = team.phones["1001"].answer(timeout_s=3)
    media = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    media.bind(("127.0.0.1", 0))
    media.settimeout(5)
    try:
        time.sleep(SETTLE_S)
        call = team.phones["1003"].call("1001", hold_ms=7000, wait=False, media_port=media.getsockname()[1])
        played = ran(ami, "Playback", f"{inst.base}/prompts/{key}")
        assert played["Context"] == "pbx-announce"
        packets = [media.recv(2048) for _ in range(25)]  # half a second of audio at least
        assert all(p[0] >> 6 == 2 for p in packets)  # RTP version 2
        assert call.wait(30) == 0, call.explain()
    finally:
        media.close()
    ran(ami, "VoiceMail", f"1001@{team.org.slug},u")
    assert "application/sdp" in call.received("SIP/2.0 200")[0]
    not_rung(watching)


def test_forward_all_leaves_through_the_trunk_with_the_chosen_caller_id(e2e: E2E, team: Team) -> None:
    settings = {"forward_all": "070-123 45 67", "outgoing_callerid": "main"}
    team.anna_api.request("PUT", "/users/me/settings", settings, expect=200)
    carrier = e2e.carrier().answer()
    watching = team.phones["1001"].answer(timeout_s=3)
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1002"].call("1001"))
    assert carrier.wait(10) == 0, carrier.explain()
    invite = carrier.received("INVITE")[0]
    assert invite.startswith("INVITE sip:+46701234567@")
    assert "sip:+46812345600@" in (header(invite, "From") or "")  # the organization's main number, as chosen
    not_rung(watching)


def test_a_closed_phone_sends_callers_to_voicemail_but_a_vip_rings(
    e2e: E2E, team: Team, ami: AmiEvents
) -> None:
    team.anna_api.request("PUT", "/users/me/settings", {"closed": True}, expect=200)
    team.anna_api.post("/users/me/caller-lists", {"number": "1002", "kind": "vip"}, expect=201)
    watching = team.phones["1001"].answer(timeout_s=3)
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001", hold_ms=1500))
    ran(ami, "VoiceMail", f"1001@{team.org.slug},u")
    not_rung(watching)
    answering = team.phones["1001"].answer()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1002"].call("1001"))
    assert answering.wait(10) == 0, answering.explain()


def test_an_expired_activity_rings_normally(e2e: E2E, team: Team) -> None:
    in_a_meeting(team)
    sql(
        e2e, "UPDATE user_activities SET until = now() - interval '1 second' WHERE user_id = $1", team.anna.id
    )
    answering = team.phones["1001"].answer()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001"))
    assert answering.wait(10) == 0, answering.explain()


def test_no_answer_after_the_ring_time_reaches_voicemail(e2e: E2E, team: Team, ami: AmiEvents) -> None:
    team.org.admin.request("PATCH", f"/users/{team.anna.id}", {"ring_time": 5}, expect=200)
    ringing = team.phones["1001"].ring()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001", hold_ms=1500))
    assert ringing.wait(10) == 0, ringing.explain()  # rang, then was cancelled
    ran(ami, "VoiceMail", f"1001@{team.org.slug},u")


def test_no_answer_after_n_seconds_forwards_out_through_the_trunk(e2e: E2E, team: Team) -> None:
    settings = {
        "forward_no_answer": "+46701239999",
        "forward_no_answer_seconds": 5,
        "outgoing_callerid": "own",
    }
    team.anna_api.request("PUT", "/users/me/settings", settings, expect=200)
    ringing = team.phones["1001"].ring()
    carrier = e2e.carrier().answer()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001"))
    assert ringing.wait(10) == 0, ringing.explain()  # Anna's phone rang first, then was cancelled
    assert carrier.wait(10) == 0, carrier.explain()
    invite = carrier.received("INVITE")[0]
    assert invite.startswith("INVITE sip:+46701239999@")
    assert f"sip:{team.did}@" in (header(invite, "From") or "")  # Anna's own number, as chosen


def test_busy_forwards_to_a_colleague_then_voicemail(e2e: E2E, team: Team, ami: AmiEvents) -> None:
    team.anna_api.request("PUT", "/users/me/settings", {"forward_busy": "1002"}, expect=200)
    busy = team.phones["1001"].busy()
    answering = team.phones["1002"].answer()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001"))
    assert busy.wait(10) == 0, busy.explain()
    assert answering.wait(10) == 0, answering.explain()  # Bo took the call Anna was too busy for
    # without the forward, a busy phone ends in voicemail (the busy greeting)
    team.anna_api.request("PUT", "/users/me/settings", {"forward_busy": None}, expect=200)
    busy = team.phones["1001"].busy()
    time.sleep(SETTLE_S)
    assert_ok(team.phones["1003"].call("1001", hold_ms=1500))
    assert busy.wait(10) == 0, busy.explain()
    ran(ami, "VoiceMail", f"1001@{team.org.slug},b")


def test_001_opens_ones_own_voicemail(e2e: E2E, team: Team, ami: AmiEvents) -> None:
    assert_ok(team.phones["1002"].call("001", hold_ms=1500))
    ran(ami, "VoiceMailMain", f"1002@{team.org.slug},s")


def test_the_callee_sees_the_callers_name_from_their_phonebook(e2e: E2E, team: Team) -> None:
    contact = {"name": "Olle Ångström", "numbers": [{"number": "070-111 22 33", "label": "mobile"}]}
    team.anna_api.post("/users/me/contacts", contact, expect=201)
    answering = team.phones["1001"].answer()
    time.sleep(SETTLE_S)
    call = e2e.carrier(CARRIER_PORT + 2).call(team.did, auth=False, from_user="+46701112233")
    assert_ok(call)
    assert answering.wait(10) == 0, answering.explain()
    assert '"Olle Ångström"' in (header(answering.received("INVITE")[0], "From") or "")
