"""Helpers the call-control e2e tests share: a registered phone, the user's app, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.provision import PASSWORD, User
from tests.support.sipp import Phone, SippRun

SETTLE_S = 0.3


def ok(run: SippRun, timeout_s: float = 30) -> None:
    assert run.wait(timeout_s) == 0, run.explain()


def until(what: str, probe: Callable[[], Any], timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def phone(e2e: E2E, user: User) -> Phone:
    """The user's first device, registered."""
    p = e2e.phone(user.devices[0].sip_username, user.devices[0].sip_password)
    p.register()
    return p


def app(e2e: E2E, user: User) -> Api:
    return Api(e2e.control.api).login(user.username, PASSWORD)


def answered_call(api: Api) -> dict:
    """Wait until the user's app shows one answered call and return it."""
    return until("an answered call in the app", lambda: [c for c in api.get("/calls") if c["bridged"]])[0]
