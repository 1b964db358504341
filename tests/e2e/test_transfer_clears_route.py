"""A blind transfer routes the caller anew: nothing of the first callee's route goes along.

Anna is on a customer visit (an activity whose callers hear her announcement, then her phones
ring) and forwards calls she does not answer out through the trunk. A call from the carrier hears
her announcement, rings her, she answers and blind-transfers it to Bo, from the app or with a SIP
REFER from her phone. Bo does not answer. The caller must not hear Anna's announcement again nor
leave through the trunk to Anna's forward: Bo's no answer ends in Bo's own voicemail.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import asyncpg
import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support.ami_events import AmiEvents, Event
from tests.support.api import Api
from tests.support.provision import PASSWORD, new_org

pytestmark = [pytest.mark.e2e, pytest.mark.calls]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed
ANNA_FORWARD = "+46701239999"
CALLER = "+46701112233"
_dids = itertools.count(1)


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (result := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.1)
    return result


def prompt_of(e2e: E2E, user_id: int) -> str:
    async def run() -> str:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            return await conn.fetchval("SELECT prompt FROM user_activities WHERE user_id = $1", user_id)
        finally:
            await conn.close()

    return asyncio.run(run())


@pytest.fixture
def ami(e2e: E2E) -> Iterator[AmiEvents]:
    inst = e2e.stack.asterisk_instance()
    with AmiEvents(e2e.stack.ports.ami, inst.ami_username, e2e.stack.ami_secret) as events:
        yield events


def step_of(channel: str) -> Callable[[Event], bool]:
    """A dialplan step (Newexten event) run by `channel`."""
    return lambda e: e.get("Event") == "Newexten" and e.get("Channel") == channel


@pytest.mark.parametrize("how", ["api", "refer"])
def test_a_transferred_caller_gets_none_of_the_first_callees_route(
    e2e: E2E, platform: Api, ami: AmiEvents, how: str
) -> None:
    org = new_org(platform, prefix="xfer")
    anna, bo = org.add_user("1001", "Anna Svensson"), org.add_user("1002", "Bo Ek")
    did = f"+46856{next(_dids):06d}"
    org.add_number(did, anna)
    org.admin.request("PATCH", f"/users/{bo.id}", {"ring_time": 5}, expect=200)
    anna_app = Api(e2e.control.api).login(anna.username, PASSWORD)
    visit = anna_app.post(
        "/users/me/activities",
        {"label": "Kundbesök", "spoken_text": "är på kundbesök", "destination": "ring"},
        expect=201,
    )
    anna_app.request(
        "PUT",
        "/users/me/activity",
        {"activity": "custom", "custom_activity_id": visit["id"], "duration_minutes": 60},
        expect=200,
    )
    forward = {"forward_no_answer": ANNA_FORWARD, "forward_no_answer_seconds": 20}
    anna_app.request("PUT", "/users/me/settings", forward, expect=200)
    wait_for("announcement made", lambda: anna_app.get("/users/me/activity")["announcement_ready"])
    prompt = f"{e2e.stack.asterisk_instance().base}/prompts/{prompt_of(e2e, anna.id)}"

    phones = {}
    for user in (anna, bo):
        phones[user.extension] = e2e.phone(user.devices[0].sip_username, user.devices[0].sip_password)
        phones[user.extension].register()
    if how == "api":
        anna_answers = phones["1001"].answer(timeout_s=60)
    else:
        anna_answers = phones["1001"].answer_then_refer("1002", refer_after_ms=1000, timeout_s=60)
    bo_rings = phones["1002"].ring(timeout_s=60)
    forward_leg = e2e.carrier().answer(timeout_s=60)  # where Anna's forward would leave
    time.sleep(SETTLE_S)
    # The carrier calls from another port: SIPp's media (port + 10000, video + 2) must not collide.
    call = e2e.carrier(CARRIER_PORT + 4).call(
        did, auth=False, from_user=CALLER, hold_ms=60000, timeout_s=70, wait=False, remote_may_hang_up=True
    )

    # Before the transfer: Anna's route as it should be, announcement first.
    first = ami.wait_for(
        lambda e: (
            e.get("Event") == "Newexten" and e.get("Application") == "Playback" and prompt in e["AppData"]
        ),
        what="Anna's announcement",
    )
    caller = first["Channel"]
    assert caller.startswith("PJSIP/trunk_")
    if how == "api":
        mine = wait_for("Anna's answered call", lambda: [c for c in anna_app.get("/calls") if c["bridged"]])
        anna_app.post("/calls/transfer", {"call": mine[0]["id"], "to": "1002"}, expect=204)

    # The transfer sends the caller to Anna's organization's context; the route ends in voicemail
    # or (the fault) in a forward through the trunk.
    on_caller = step_of(caller)
    ami.wait_for(
        lambda e: on_caller(e) and e.get("Context") == f"org-{org.slug}",
        timeout_s=20,
        what="the caller in the organization's context after the transfer",
    )
    end = ami.wait_for(
        lambda e: (
            on_caller(e)
            and (
                e.get("Application") == "VoiceMail"
                or (e.get("Application") == "Dial" and "@trunk_" in e.get("AppData", ""))
            )
        ),
        timeout_s=30,
        what="the end of the transferred call's route",
    )
    prompt_var = ami.action("Getvar", Channel=caller, Variable="PBX_PROMPT").get("Value", "")
    ami.action("Hangup", Channel=caller)
    assert call.wait(20) == 0, call.explain()
    assert anna_answers.wait(10) == 0, anna_answers.explain()
    assert bo_rings.wait(10) == 0, bo_rings.explain()  # Bo rang and was cancelled
    forward_leg.stop()

    ran = ami.find(on_caller)
    at = next(i for i, e in enumerate(ran) if e.get("Context") == f"org-{org.slug}")
    heard = [e["AppData"] for e in ran if e["Application"] == "Playback"]
    assert heard == [prompt], "the announcement was to be heard once, before the transfer"
    assert [e for e in ran[at:] if e["Context"] == "pbx-announce"] == []
    assert (end["Application"], end["AppData"]) == ("VoiceMail", f"1002@{org.slug},uS"), (
        f"the transferred call ended in {end['Application']}({end['AppData']})"
    )
    assert forward_leg.received("INVITE") == [], "a leg to Anna's forward left through the trunk"
    assert prompt_var == "", "Anna's announcement is still on the caller's channel"
    dials = [e for e in ami.find(lambda e: e.get("Event") == "DialBegin") if e.get("Channel") == caller]
    assert [e["DestChannel"] for e in dials if "trunk_" in e.get("DestChannel", "")] == []
