"""Presence through the real stack: while A calls B (SIPp phones, Asterisk, the AMI call model in the
control service), GET /presence shows both on a call; when the call ends, both are idle again."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.provision import PASSWORD, new_org

pytestmark = [pytest.mark.e2e, pytest.mark.directory]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed


def wait_for(
    what: str, check: Callable[[], bool], explain: Callable[[], str] = str, timeout_s: float = 10
) -> None:
    """Poll until `check` holds (a state to reach, not a speed to measure)."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}\n{explain()}")
        time.sleep(0.1)


def test_presence_shows_both_parties_on_a_call(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson")
    bo = org.add_user("1002", "Bo Ek")
    cilla = org.add_user("1003", "Cilla Berg")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    viewer = Api(e2e.control.api).login(cilla.username, PASSWORD)

    def calls() -> dict[str, str]:
        return {p["name"]: p["call"] for p in viewer.get("/presence")}

    assert calls() == {"Admin": "idle", "Anna Svensson": "idle", "Bo Ek": "idle", "Cilla Berg": "idle"}
    answering = callee.answer(answer_after_ms=100)
    time.sleep(SETTLE_S)
    call = caller.call("1001", hold_ms=3000, wait=False)

    def both_talking() -> bool:
        now = calls()
        return (now["Anna Svensson"], now["Bo Ek"]) == ("on_call", "on_call")

    wait_for("both parties on a call", both_talking, lambda: f"{calls()}\n{call.explain()}")
    during = {p["name"]: p for p in viewer.get("/presence")}
    assert during["Cilla Berg"]["call"] == "idle" and during["Admin"]["call"] == "idle"
    assert during["Anna Svensson"]["on_call"] is True and during["Bo Ek"]["on_call"] is True
    # Only the asker's organization: another one's presence shows nothing of this call.
    other = new_org(platform)
    other.add_user("1001", "Other Anna")
    outsider = Api(e2e.control.api).login("u1001@" + other.slug, PASSWORD)
    assert {p["name"]: p["call"] for p in outsider.get("/presence")} == {
        "Admin": "idle",
        "Other Anna": "idle",
    }
    assert call.wait(30) == 0, call.explain()
    assert answering.wait(10) == 0, answering.explain()
    wait_for("both idle after the call", lambda: set(calls().values()) == {"idle"})
