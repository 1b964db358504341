"""The control plane against the real Asterisk: AMI live model, recovery after a restart, logs."""

from __future__ import annotations

import json
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.provision import PASSWORD, new_org

pytestmark = [pytest.mark.e2e, pytest.mark.stack]


def health(e2e: E2E) -> dict:
    return Api(e2e.control.api).request("GET", "/health", check=False)


def wait_for(predicate, timeout_s: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_ami_model_follows_calls_and_recovers_after_asterisk_restart(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    assert health(e2e)["ami"]["ok"] is True

    answering = callee.answer()
    time.sleep(0.3)
    call = caller.call("1001", hold_ms=3000, wait=False)
    # This organization's calls only: other tests' calls on the shared stack may still be ending.
    wait_for(lambda: len(org.admin.get("/calls")) >= 2, 10, "both call legs in the live model")
    assert call.wait(20) == 0, call.explain()
    assert answering.wait(10) == 0
    wait_for(lambda: org.admin.get("/calls") == [], 10, "the model to empty after hangup")

    asterisk = e2e.stack.asterisk_instance()
    asterisk.stop()
    wait_for(lambda: health(e2e)["ami"]["connected"] is False, 15, "AMI loss to be noticed")
    asterisk.start()
    wait_for(lambda: health(e2e)["ami"]["ok"] is True, 30, "AMI to reconnect after FullyBooted")

    # Registrations survive (astdb), the org contexts are loaded again: calls work as before.
    answering = callee.answer()
    time.sleep(0.3)
    call = caller.call("1001")
    assert call.returncode == 0, call.explain()
    assert answering.wait(10) == 0, answering.explain()


def test_logs_carry_call_ids_and_organization_but_no_secrets(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    anna, bo = org.add_user("1001", "Anna"), org.add_user("1002", "Bo")
    callee = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    caller = e2e.phone(bo.devices[0].sip_username, bo.devices[0].sip_password)
    callee.register()
    caller.register()
    answering = callee.answer()
    time.sleep(0.3)
    assert caller.call("1001").returncode == 0
    answering.wait(10)
    time.sleep(0.5)

    lines = [
        json.loads(line) for line in e2e.control.log_path.read_text().splitlines() if line.startswith("{")
    ]
    routed = [e for e in lines if e.get("event") == "agi.session.end" and e.get("organization") == org.slug]
    assert routed, "no FastAGI session logged for the organization"
    assert all(e.get("uniqueid") and e.get("linkedid") for e in routed)

    text = e2e.control.log_path.read_text()
    secrets = [anna.devices[0].sip_password, bo.devices[0].sip_password, PASSWORD, org.admin.token or "x"]
    for secret in secrets:
        assert secret not in text
    assert e2e.stack.ami_secret not in text
