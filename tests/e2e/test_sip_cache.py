"""Asterisk's cache of SIP accounts (sorcery memory cache, sorcery.conf) never outlives a change
made through the API: a new password, a deleted device take effect at the next request, as they
did without a cache (sql/020_sip_cache.sql, pbx_control/tenancy/sip_cache.py). That the cache
carries phones through an outage is shown by tests/e2e/test_faults_database.py."""

from __future__ import annotations

import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.counted import counts
from tests.support.provision import new_org
from tests.support.sipp import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.tenancy, pytest.mark.faults]


def cached(e2e: E2E, cache: str, object_id: str) -> bool:
    return object_id in e2e.stack.asterisk_instance().cli(f"sorcery memory cache dump {cache}")


def registers(phone: Phone) -> bool:
    return bool(phone.register_expect_failure(timeout_s=3).received("SIP/2.0 200"))


def refused_soon(phone: Phone, within_s: float = 5) -> bool:
    """The registration is refused (401), within a few tries: the expiry is asynchronous."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not registers(phone):
            return True
    return False


def test_a_new_password_and_a_deleted_device_take_effect_at_once(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="sc")
    anna = org.add_user("1001", "Anna", devices=2)
    old, other = anna.devices
    phone = e2e.phone(old.sip_username, old.sip_password)
    phone.register()
    assert cached(e2e, "pbx_auth", old.sip_username) and cached(e2e, "pbx_endpoint", old.sip_username)

    ids = {d["sip_username"]: d["id"] for d in org.admin.get(f"/users/{anna.id}/devices")}
    new_password = "a-new-sip-password-1"
    org.admin.post(f"/devices/{ids[old.sip_username]}/reset-password", {"password": new_password}, expect=200)
    old_refused = refused_soon(phone)
    renewed = registers(e2e.phone(old.sip_username, new_password))

    gone = e2e.phone(other.sip_username, other.sip_password)
    gone.register()
    org.admin.request("DELETE", f"/devices/{ids[other.sip_username]}", expect=204)
    deleted_refused = refused_soon(gone)
    line = counts(
        "faults/sip-cache-changes",
        changes=2,
        old_password_refused=old_refused,
        new_password_accepted=renewed,
        deleted_device_refused=deleted_refused,
    )
    assert old_refused and renewed and deleted_refused, line
