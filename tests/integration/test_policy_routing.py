"""The call policy on the call path, over a real FastAGI socket with real PostgreSQL rows: what a
device may dial, where a forward may still lead at call time, and a group's overflow out through
the trunk. The policy is read with the call's facts; a change applies to the next call."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.groups.admin import save_group
from pbx_control.groups.agi import GroupTargets
from pbx_control.groups.model import Destination
from pbx_control.policy import repository
from pbx_control.reachability import settings
from tests.integration.test_reachability_routing import W, agi, call, inbound, w
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.routing, pytest.mark.security]
__all__ = ["agi", "w"]  # fixtures shared with the reachability routing tests

ABROAD, PREMIUM = "+4420794601234", "0900123456"


async def test_what_a_device_may_dial_follows_the_policy_and_the_users_narrowing(
    db_pool: asyncpg.Pool, w: W, agi: int
) -> None:
    anna = w.anna_devices[0]
    for number in (ABROAD, PREMIUM, "0044207946012"):
        assert (await call(agi, anna, number))["PBX_ROUTE"] == "refused"  # the default
    assert (await call(agi, anna, "0701234567"))["PBX_ROUTE"] == "external"
    assert (await call(agi, anna, "112"))["PBX_ROUTE"] == "external"
    await repository.save_org(db_pool, w.org_id, {"dial": ["national", "mobile", "international"]})
    out = await call(agi, anna, ABROAD)
    assert out["PBX_ROUTE"] == "external" and out["PBX_DIAL"] == f"PJSIP/{ABROAD}@trunk_carrier"
    assert (await call(agi, anna, PREMIUM))["PBX_ROUTE"] == "refused"  # premium still not allowed
    # An admin narrows Anna to national numbers: her mobile call is refused, Bo's is not.
    await repository.save_user(db_pool, w.org_id, w.anna, {"dial": ["national"]})
    assert (await call(agi, anna, "0701234567"))["PBX_ROUTE"] == "refused"
    assert (await call(agi, anna, ABROAD))["PBX_ROUTE"] == "refused"
    assert (await call(agi, anna, "081234567"))["PBX_ROUTE"] == "external"
    assert (await call(agi, anna, "112"))["PBX_ROUTE"] == "external"  # emergency always
    assert (await call(agi, anna, "1002"))["PBX_ROUTE"] == "dial"  # colleagues always
    assert (await call(agi, w.bo_device, "0701234567"))["PBX_ROUTE"] == "external"


async def test_a_forward_the_policy_no_longer_allows_ends_in_voicemail(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    await repository.save_org(db_pool, w.org_id, {"forward": ["national", "mobile", "international"]})
    await settings.put_settings(db_pool, w.anna, clock(), {"forward_all": ABROAD})
    assert (await call(agi, w.bo_device, "1001"))["PBX_DIAL"] == f"PJSIP/{ABROAD}@trunk_carrier"
    assert (await inbound(agi, "+46812345601"))["PBX_ROUTE"] == "external"
    # The admin takes international forwards back: the stored forward no longer leaves.
    await repository.save_org(db_pool, w.org_id, {"forward": ["national", "mobile"]})
    voicemail = {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"}
    assert await call(agi, w.bo_device, "1001") == voicemail
    assert await inbound(agi, "+46812345601") == {**voicemail, "PBX_ORG": "acme"}
    # The same for forwards on busy / no answer: the leg is left out, the voicemail stays.
    await settings.put_settings(db_pool, w.anna, clock(), {"forward_all": None, "forward_busy": "0701234567"})
    assert (await call(agi, w.bo_device, "1001"))["PBX_BUSY_DIAL"] == "PJSIP/+46701234567@trunk_carrier"
    await repository.save_user(db_pool, w.org_id, w.anna, {"forward": []})
    r = await call(agi, w.bo_device, "1001")
    assert r["PBX_ROUTE"] == "dial" and "PBX_BUSY_DIAL" not in r and r["PBX_VOICEMAIL"] == "1001@acme"


async def test_a_groups_overflow_out_through_the_trunk_follows_the_policy(
    db_pool: asyncpg.Pool, w: W, clock: FixedClock
) -> None:
    await repository.save_org(db_pool, w.org_id, {"overflow": ["international"]})
    overflow = Destination(kind="external", number=ABROAD)
    await save_group(db_pool, w.org_id, None, {"extension": "20", "name": "Support", "overflow": overflow})
    targets = GroupTargets(db_pool, clock)
    route = await targets.by_extension("acme", "20")  # nobody logged in: the overflow at once
    assert route is not None and (route.action, route.dial) == ("external", f"PJSIP/{ABROAD}@trunk_carrier")
    await repository.save_org(db_pool, w.org_id, {"overflow": ["national", "mobile"]})
    route = await targets.by_extension("acme", "20")
    assert route is not None and route.action == "unavailable"
