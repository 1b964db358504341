"""Reachability through the route and inbound handlers, over a real FastAGI socket with real
PostgreSQL rows: blocked, VIP, closed phone, forwards, activities with their announcement,
voicemail, 001 and caller names. Every variable the dialplan reads is asserted.

The handlers run on a fixed clock; activities, settings and their end times are set and passed by
that clock (the tests of end times run at every instant of tests.support.clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.reachability import service, settings
from pbx_control.routing.call_path import handlers as build_handlers
from pbx_control.routing.decision import Route
from pbx_control.routing.targets import Targets
from pbx_control.tenancy import devices, numbers, organizations, trunks, users
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.reachability]

PROMPT = "0123456789abcdef0123456789abcdef"
CALLER = "+46701112233"


@dataclass
class W:
    org_id: int
    anna: int
    bo: int
    cia: int
    anna_devices: list[str]
    bo_device: str
    cia_device: str

    @property
    def anna_dial(self) -> str:
        return "&".join(f"PJSIP/{d}" for d in self.anna_devices)


@pytest.fixture
async def w(db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch) -> W:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    await trunks.create_trunk(db_pool, "carrier", "127.0.0.2", 5080, "127.0.0.2")
    org = await organizations.create_organization(db_pool, "acme", "Acme", "+46812345600")
    made = {}
    for ext, name, role in (
        ("1001", "Anna Svensson", "user"),
        ("1002", "Bo Ek", "user"),
        ("1003", "Cia", "operator"),
    ):
        u = await users.create_user(
            db_pool, org["id"], ext, name, f"u{ext}@acme", "password-123456", role, "sv"
        )
        made[ext] = u["id"]
    anna_desk, _ = await devices.create_device(db_pool, org["id"], made["1001"], "desk")
    anna_mobile, _ = await devices.create_device(db_pool, org["id"], made["1001"], "mobile")
    bo_desk, _ = await devices.create_device(db_pool, org["id"], made["1002"], "desk")
    cia_desk, _ = await devices.create_device(db_pool, org["id"], made["1003"], "desk")
    await numbers.create_number(db_pool, org["id"], "+46812345601", made["1001"])
    await numbers.create_number(db_pool, org["id"], "+46812345602", made["1002"])
    return W(
        org["id"],
        made["1001"],
        made["1002"],
        made["1003"],
        [anna_desk["sip_username"], anna_mobile["sip_username"]],
        bo_desk["sip_username"],
        cia_desk["sip_username"],
    )


class Groups(Targets):
    """An answer group on extension 1500 / number +46812345650, as the groups feature plugs in."""

    def __init__(self) -> None:
        super().__init__()
        self.extensions.append(self._ext)
        self.numbers.append(self._num)

    async def _ext(self, org: str, ext: str) -> Route | None:
        return Route("dial", "PJSIP/group_member_1", 20, reason="group") if ext == "1500" else None

    async def _num(self, org: str, number: str) -> Route | None:
        return (
            Route("dial", "PJSIP/group_member_1", 20, organization=org) if number == "+46812345650" else None
        )


@pytest.fixture
async def agi(db_pool: asyncpg.Pool, clock: FixedClock) -> AsyncIterator[int]:
    # Caller names: the directory's lookup (pbx_control.directory.caller_names), as in production.
    handlers = build_handlers(db_pool, Groups(), clock=clock)
    server = AgiServer(handlers, host="127.0.0.1", port=0, deadline_s=2)
    await server.start()
    yield server.bound_port
    await server.stop()


async def call(agi: int, endpoint: str, exten: str) -> dict[str, str]:
    env = {"channel": f"PJSIP/{endpoint}-00000001", "accountcode": "acme", "extension": exten}
    return (await FakeAsterisk(agi).run("route", env=env)).variables


async def inbound(agi: int, did: str, callerid: str = CALLER, pres: str = "0") -> dict[str, str]:
    env = {
        "channel": "PJSIP/trunk_carrier-00000002",
        "accountcode": "",
        "extension": did,
        "callerid": callerid,
        "callingpres": pres,
        "context": "pbx-from-trunk",
    }
    return (await FakeAsterisk(agi).run("inbound", env=env)).variables


async def mark(db: asyncpg.Pool, user_id: int, number: str, kind: str) -> None:
    await db.execute(
        "INSERT INTO caller_lists (user_id, number, kind) VALUES ($1, $2, $3)", user_id, number, kind
    )


async def meeting(
    db: asyncpg.Pool, user_id: int, clock: FixedClock, *, ready: bool = True, **kw: object
) -> None:
    """Set a meeting (one hour unless told) through the service, then play the prompt worker's part."""
    await service.set_activity(db, user_id, clock(), activity="meeting", **kw)  # type: ignore[arg-type]
    if ready:
        await db.execute(
            "UPDATE user_activities a SET prompt = $2, prompt_name = u.name, prompt_language = u.language"
            "  FROM users u WHERE u.id = a.user_id AND a.user_id = $1",
            user_id,
            PROMPT,
        )


def ring_anna(w: W, **extra: str) -> dict[str, str]:
    return {
        "PBX_ROUTE": "dial",
        "PBX_DIAL": w.anna_dial,
        "PBX_DIAL_TIMEOUT": "30",
        "PBX_VOICEMAIL": "1001@acme",
        **extra,
    }


# --- blocked, VIP ------------------------------------------------------------------------------


async def test_blocked_callers_hear_busy_and_nothing_rings(db_pool: asyncpg.Pool, w: W, agi: int) -> None:
    await mark(db_pool, w.anna, "1002", "blocked")
    await mark(db_pool, w.anna, CALLER, "blocked")
    assert await call(agi, w.bo_device, "1001") == {"PBX_ROUTE": "busy"}
    assert await inbound(agi, "+46812345601") == {"PBX_ORG": "acme", "PBX_ROUTE": "busy"}
    # others still ring
    assert await call(agi, w.cia_device, "1001") == ring_anna(w)
    assert (await inbound(agi, "+46812345601", "+46709999999"))["PBX_ROUTE"] == "dial"
    # a blocked number as the carrier may send it (national, without +)
    assert await inbound(agi, "+46812345601", "0701112233") == {"PBX_ORG": "acme", "PBX_ROUTE": "busy"}


async def test_a_colleague_blocked_by_a_did_of_theirs(db_pool: asyncpg.Pool, w: W, agi: int) -> None:
    await mark(db_pool, w.anna, "+46812345602", "blocked")  # Bo's DID, as a phonebook contact may hold it
    assert await call(agi, w.bo_device, "1001") == {"PBX_ROUTE": "busy"}


async def test_anonymous_callers_are_blocked_only_on_request(db_pool: asyncpg.Pool, w: W, agi: int) -> None:
    for callerid, pres in (("", "0"), ("anonymous", "0"), (CALLER, "32"), ("garbage", "0")):
        assert (await inbound(agi, "+46812345601", callerid, pres))["PBX_ROUTE"] == "dial"
    await db_pool.execute("UPDATE users SET block_anonymous = true WHERE id = $1", w.anna)
    for callerid, pres in (("", "0"), ("anonymous", "0"), (CALLER, "32"), ("garbage", "0")):
        assert await inbound(agi, "+46812345601", callerid, pres) == {"PBX_ORG": "acme", "PBX_ROUTE": "busy"}
    assert (await inbound(agi, "+46812345601"))["PBX_ROUTE"] == "dial"


async def test_vip_rings_through_a_meeting_and_a_closed_phone(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    await meeting(db_pool, w.anna, clock)
    await mark(db_pool, w.anna, CALLER, "vip")
    await mark(db_pool, w.anna, "1002", "vip")
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)
    assert (await inbound(agi, "+46812345601"))["PBX_ROUTE"] == "dial"
    # an outside caller presenting a colleague's extension is not that colleague
    assert (await inbound(agi, "+46812345601", "1002"))["PBX_ROUTE"] == "voicemail"
    await settings.put_settings(db_pool, w.anna, clock(), {"closed": True, "forward_all": "1003"})
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)
    # a caller not on the list gets the closed phone's voicemail
    assert await call(agi, w.cia_device, "1001") == {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"}


# --- activities --------------------------------------------------------------------------------


async def test_an_activity_plays_its_announcement_then_voicemail_until_it_ends(
    db_pool: asyncpg.Pool, w: W, agi: int, fixed_clock: FixedClock
) -> None:
    await meeting(db_pool, w.anna, fixed_clock, duration_minutes=120)
    expected = {"PBX_ROUTE": "voicemail", "PBX_PROMPT": PROMPT, "PBX_VOICEMAIL": "1001@acme"}
    assert await call(agi, w.bo_device, "1001") == expected
    assert await inbound(agi, "+46812345601") == {**expected, "PBX_ORG": "acme"}
    fixed_clock.advance(timedelta(minutes=119, seconds=59))
    assert await call(agi, w.bo_device, "1001") == expected
    fixed_clock.advance(timedelta(seconds=1))  # the end time: it ended by itself
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)
    assert (await inbound(agi, "+46812345601"))["PBX_ROUTE"] == "dial"


async def test_gone_for_the_day_lasts_until_the_next_working_day(
    db_pool: asyncpg.Pool, w: W, agi: int, fixed_clock: FixedClock
) -> None:
    await service.set_activity(db_pool, w.anna, fixed_clock(), activity="gone")
    assert (await call(agi, w.bo_device, "1001"))["PBX_ROUTE"] == "voicemail"
    fixed_clock.at = fixed_clock.instant.back - timedelta(seconds=1)
    assert (await call(agi, w.bo_device, "1001"))["PBX_ROUTE"] == "voicemail"
    fixed_clock.at = fixed_clock.instant.back
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)


async def test_an_announcement_not_made_yet_or_stale_is_skipped(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    await meeting(db_pool, w.anna, clock, ready=False)
    assert await call(agi, w.bo_device, "1001") == {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"}
    await meeting(db_pool, w.anna, clock)
    await db_pool.execute("UPDATE users SET name = 'Anna Berg' WHERE id = $1", w.anna)  # renamed: stale
    assert await call(agi, w.bo_device, "1001") == {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"}


async def test_an_expired_activity_rings_normally(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    await meeting(db_pool, w.anna, clock)
    await db_pool.execute(
        "UPDATE user_activities SET until = $2 WHERE user_id = $1", w.anna, clock() - timedelta(seconds=1)
    )
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)
    await service.set_activity(db_pool, w.anna, clock(), activity="available")
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)


async def test_custom_activity_destinations(db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock) -> None:
    now = clock()
    fields = {"label": "Kurs", "spoken_text": "är på kurs", "destination": "forward", "forward_to": "1002"}
    course = await service.create_custom(db_pool, w.anna, fields)
    await service.set_activity(db_pool, w.anna, now, activity="custom", custom_activity_id=course["id"])
    r = await call(agi, w.cia_device, "1001")
    assert r == {"PBX_ROUTE": "dial", "PBX_DIAL": f"PJSIP/{w.bo_device}", "PBX_DIAL_TIMEOUT": "30",
                 "PBX_VOICEMAIL": "1002@acme"}  # fmt: skip
    await service.update_custom(db_pool, w.anna, course["id"], {"destination": "operator"}, now)
    r = await call(agi, w.bo_device, "1001")
    assert r == {"PBX_ROUTE": "dial", "PBX_DIAL": f"PJSIP/{w.cia_device}", "PBX_DIAL_TIMEOUT": "30",
                 "PBX_VOICEMAIL": "1001@acme"}  # fmt: skip
    await service.update_custom(db_pool, w.anna, course["id"], {"destination": "ring"}, now)
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)
    await service.update_custom(
        db_pool, w.anna, course["id"], {"destination": "forward", "forward_to": "0701234567"}, now
    )
    r = await call(agi, w.bo_device, "1001")
    assert r == {"PBX_ROUTE": "external", "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier",
                 "PBX_DIAL_TIMEOUT": "120", "PBX_CALLERID_NUM": "+46812345601",
                 "PBX_VOICEMAIL": "1001@acme"}  # fmt: skip


# --- closed phone, forwards ------------------------------------------------------------------------


async def test_forward_all_out_through_the_trunk_with_the_chosen_caller_id(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    now = clock()
    await settings.put_settings(db_pool, w.anna, now, {"forward_all": "070-123 45 67"})
    out = {"PBX_ROUTE": "external", "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier", "PBX_DIAL_TIMEOUT": "120",
           "PBX_VOICEMAIL": "1001@acme"}  # fmt: skip
    assert await call(agi, w.bo_device, "1001") == {**out, "PBX_CALLERID_NUM": "+46812345601"}
    await settings.put_settings(db_pool, w.anna, now, {"outgoing_callerid": "main"})
    assert await inbound(agi, "+46812345601") == {
        **out,
        "PBX_CALLERID_NUM": "+46812345600",
        "PBX_ORG": "acme",
    }
    await settings.put_settings(db_pool, w.anna, now, {"outgoing_callerid": "hidden"})
    assert await call(agi, w.bo_device, "1001") == {**out, "PBX_CALLERID_HIDDEN": "1"}
    # the temporary caller id also holds for Anna's own calls out, until it ends
    await settings.put_settings(db_pool, w.anna, now, {"outgoing_callerid_until": now + timedelta(hours=1)})
    r = await call(agi, w.anna_devices[0], "0701234567")
    assert r["PBX_CALLERID_HIDDEN"] == "1"
    clock.advance(timedelta(hours=1))
    r = await call(agi, w.anna_devices[0], "0701234567")
    assert r["PBX_CALLERID_NUM"] == "+46812345601" and "PBX_CALLERID_HIDDEN" not in r


async def test_forward_all_to_a_colleague_follows_their_own_rules(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    now = clock()
    await settings.put_settings(db_pool, w.anna, now, {"forward_all": "1002"})
    bo = {
        "PBX_ROUTE": "dial",
        "PBX_DIAL": f"PJSIP/{w.bo_device}",
        "PBX_DIAL_TIMEOUT": "30",
        "PBX_VOICEMAIL": "1002@acme",
    }
    assert await call(agi, w.cia_device, "1001") == bo
    await meeting(db_pool, w.bo, clock)  # Bo is away: his announcement and voicemail
    r = await call(agi, w.cia_device, "1001")
    assert r == {"PBX_ROUTE": "voicemail", "PBX_PROMPT": PROMPT, "PBX_VOICEMAIL": "1002@acme"}
    # a loop (Bo forwards back to Anna) ends by ringing Anna
    await service.set_activity(db_pool, w.bo, now, activity="available")
    await settings.put_settings(db_pool, w.bo, now, {"forward_all": "1001"})
    assert await call(agi, w.cia_device, "1001") == ring_anna(w)
    # forward-all to a group
    await settings.put_settings(db_pool, w.anna, now, {"forward_all": None})
    await db_pool.execute("UPDATE user_settings SET forward_all = '1500' WHERE user_id = $1", w.anna)
    assert (await call(agi, w.cia_device, "1001"))["PBX_DIAL"] == "PJSIP/group_member_1"


async def test_an_expired_forward_or_closed_phone_rings(
    db_pool: asyncpg.Pool, w: W, agi: int, fixed_clock: FixedClock
) -> None:
    now = fixed_clock()
    hour = now + timedelta(hours=1)
    await settings.put_settings(
        db_pool,
        w.anna,
        now,
        {"closed": True, "closed_until": hour, "forward_all": "1002", "forward_all_until": hour},
    )
    assert (await call(agi, w.bo_device, "1001"))["PBX_ROUTE"] == "voicemail"
    fixed_clock.advance(timedelta(minutes=59, seconds=59))
    assert (await call(agi, w.bo_device, "1001"))["PBX_ROUTE"] == "voicemail"
    fixed_clock.advance(timedelta(seconds=1))
    assert await call(agi, w.bo_device, "1001") == ring_anna(w)


async def test_forwards_on_busy_and_no_answer(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    now = clock()
    await settings.put_settings(
        db_pool,
        w.anna,
        now,
        {"forward_busy": "1002", "forward_no_answer": "+46701234567", "forward_no_answer_seconds": 10},
    )
    assert await call(agi, w.cia_device, "1001") == ring_anna(
        w,
        PBX_DIAL_TIMEOUT="10",
        PBX_BUSY_DIAL=f"PJSIP/{w.bo_device}",
        PBX_BUSY_TIMEOUT="30",
        PBX_NOANSWER_DIAL="PJSIP/+46701234567@trunk_carrier",
        PBX_NOANSWER_TIMEOUT="120",
        PBX_NOANSWER_CALLERID_NUM="+46812345601",
    )


# --- voicemail menu, caller names, other targets --------------------------------------------------


async def test_001_opens_ones_own_voicemail(w: W, agi: int) -> None:
    assert await call(agi, w.bo_device, "001") == {"PBX_ROUTE": "vmmain", "PBX_VOICEMAIL": "1002@acme"}
    assert await call(agi, w.anna_devices[1], "001") == {"PBX_ROUTE": "vmmain", "PBX_VOICEMAIL": "1001@acme"}
    # not from a device of another organization
    env = {"channel": f"PJSIP/{w.bo_device}-00000001", "accountcode": "beta", "extension": "001"}
    assert (await FakeAsterisk(agi).run("route", env=env)).variables == {"PBX_ROUTE": "unknown"}


async def test_inbound_caller_name_from_the_phonebook(
    db_pool: asyncpg.Pool, w: W, agi: int, clock: FixedClock
) -> None:
    contact = await db_pool.fetchval(
        "INSERT INTO contacts (organization_id, owner_user_id, name) VALUES ($1, $2, $3) RETURNING id",
        w.org_id,
        w.anna,
        'Olle "Kund" Ångström\nAB',
    )
    await db_pool.execute(
        "INSERT INTO contact_numbers (contact_id, organization_id, owner_user_id, position, number)"
        " VALUES ($1, $2, $3, 0, $4)",
        contact,
        w.org_id,
        w.anna,
        CALLER,
    )
    r = await inbound(agi, "+46812345601")
    assert r["PBX_CALLERID_NAME"] == "Olle Kund Ångström AB"
    # Bo's phonebook does not have the number: no name is made up
    assert "PBX_CALLERID_NAME" not in await inbound(agi, "+46812345602")
    # voicemail routes do not look names up
    await meeting(db_pool, w.anna, clock)
    assert "PBX_CALLERID_NAME" not in await inbound(agi, "+46812345601")


async def test_targets_that_are_not_users_still_reach_their_feature(
    db_pool: asyncpg.Pool, w: W, agi: int
) -> None:
    await numbers.create_number(db_pool, w.org_id, "+46812345650", None)
    assert (await call(agi, w.bo_device, "1500"))["PBX_DIAL"] == "PJSIP/group_member_1"
    r = await inbound(agi, "+46812345650")
    assert r == {
        "PBX_ROUTE": "dial",
        "PBX_DIAL": "PJSIP/group_member_1",
        "PBX_DIAL_TIMEOUT": "20",
        "PBX_ORG": "acme",
    }
    assert await call(agi, w.bo_device, "1999") == {"PBX_ROUTE": "unknown"}
