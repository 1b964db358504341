"""The reachability API (/users/me/activity, /users/me/activities, /users/me/settings) and the
prompt worker that makes announcements in the background. Bad input is a 400 that changes nothing.

The app and the worker run on a fixed clock; the tests of end times and sentences run at every
instant of tests.support.clock and assert what is said then, word for word."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.reachability.worker import PromptWorker
from pbx_control.testing import World, api_client, bearer, login, seed_world
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.reachability]
TABLES = ("user_activities", "custom_activities", "user_settings", "users")


@pytest.fixture
async def env(
    db_pool: asyncpg.Pool, clock: FixedClock
) -> AsyncIterator[tuple[TestClient, World, dict[str, str]]]:
    async with api_client(db_pool, clock=clock) as client:
        world = await seed_world(db_pool)
        tokens = {
            name: await login(client, name) for name in ("alpha-user", "alpha-operator", "beta-user", "root")
        }
        yield client, world, tokens


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}  # noqa: S608


async def req(
    client: TestClient, method: str, path: str, token: str, body: Any = None, expect: int = 200
) -> Any:
    resp = await client.request(method, f"/api/v1{path}", json=body, headers=bearer(token))
    data = await resp.json() if resp.status != 204 else None
    assert resp.status == expect, data
    return data


async def test_set_and_read_an_activity(env: tuple, fixed_clock: FixedClock) -> None:
    client, _, tok = env
    at = fixed_clock.instant
    a = await req(
        client,
        "PUT",
        "/users/me/activity",
        tok["alpha-user"],
        {"activity": "meeting", "duration_minutes": 120, "note": "Styrelsemöte, rum 3"},
    )
    assert datetime.fromisoformat(a["until"]) == at.at + timedelta(minutes=120)
    assert a["announcement"] == f"alpha user är på möte {at.meeting_sv}."
    assert a == {
        **a,
        "activity": "meeting",
        "label": "Möte",
        "until_further_notice": False,
        "destination": "voicemail",
        "note": "Styrelsemöte, rum 3",
        "announcement_ready": False,
    }
    assert await req(client, "GET", "/users/me/activity", tok["alpha-user"]) == a
    # until further notice, and the note is kept when not sent
    b = await req(
        client,
        "PUT",
        "/users/me/activity",
        tok["alpha-user"],
        {"activity": "busy", "until_further_notice": True},
    )
    assert (b["until"], b["until_further_notice"], b["note"]) == (None, True, "Styrelsemöte, rum 3")
    assert b["announcement"] == "alpha user är upptagen tills vidare."
    c = await req(
        client, "PUT", "/users/me/activity", tok["alpha-user"], {"activity": "available", "note": ""}
    )
    assert (c["activity"], c["announcement"], c["note"]) == ("available", None, "")
    # lunch lasts an hour by default; at its end time it reads as available, with nothing written
    d = await req(client, "PUT", "/users/me/activity", tok["alpha-user"], {"activity": "lunch"})
    assert d["announcement"] == f"alpha user är på lunch {at.lunch_sv}."
    fixed_clock.advance(timedelta(minutes=59, seconds=59))
    assert (await req(client, "GET", "/users/me/activity", tok["alpha-user"]))["activity"] == "lunch"
    fixed_clock.advance(timedelta(seconds=1))
    assert (await req(client, "GET", "/users/me/activity", tok["alpha-user"]))["activity"] == "available"


async def test_a_name_with_quotes_newlines_and_any_script_is_safe_in_the_announcement(
    env: tuple, db_pool: asyncpg.Pool
) -> None:
    client, world, tok = env
    # names are stored as given (tenancy accepts them): the sentence is what must be safe
    name = 'Eve "the boss"\nДмитрий <x>'  # noqa: RUF001 - Cyrillic on purpose
    await db_pool.execute("UPDATE users SET name = $2 WHERE id = $1", world.users["alpha-user"], name)
    body = {"activity": "busy", "until_further_notice": True}
    a = await req(client, "PUT", "/users/me/activity", tok["alpha-user"], body)
    assert a["announcement"] == "Eve the boss Дмитрий x är upptagen tills vidare."


async def test_gone_for_the_day_ends_at_the_next_working_day(env: tuple, fixed_clock: FixedClock) -> None:
    client, _, tok = env
    at = fixed_clock.instant
    a = await req(client, "PUT", "/users/me/activity", tok["alpha-user"], {"activity": "gone"})
    assert datetime.fromisoformat(a["until"]) == at.back
    assert a["announcement"] == f"alpha user har gått för dagen och är tillbaka {at.back_sv}."


async def test_custom_activities(env: tuple, fixed_clock: FixedClock) -> None:
    client, _, tok = env
    t = tok["alpha-user"]
    at = fixed_clock.instant
    body = {
        "label": 'Kundbesök "Ö"',
        "spoken_text": 'är på kundbesök hos "Åkesson & Дмитрий"',
        "default_minutes": 90,
    }
    made = await req(client, "POST", "/users/me/activities", t, body, expect=201)
    assert made["destination"] == "voicemail"
    choices = await req(client, "GET", "/users/me/activities", t)
    assert [b["activity"] for b in choices["builtin"]] == ["available", "busy", "meeting", "lunch", "gone"]
    assert choices["custom"] == [made]
    a = await req(
        client, "PUT", "/users/me/activity", t, {"activity": "custom", "custom_activity_id": made["id"]}
    )
    assert a["label"] == 'Kundbesök "Ö"'
    assert datetime.fromisoformat(a["until"]) == at.at + timedelta(minutes=90)
    # quotes never reach the prompt; letters of any script do
    assert a["announcement"] == f"alpha user är på kundbesök hos Åkesson Дмитрий {at.custom_sv}."
    assert '"' not in a["announcement"]
    # changing the active activity changes what callers hear
    changed = await req(client, "PATCH", f"/users/me/activities/{made['id']}", t, {
        "spoken_text": "är på kurs", "destination": "forward", "forward_to": "1002",
    })  # fmt: skip
    assert (changed["destination"], changed["forward_to"]) == ("forward", "1002")
    a = await req(client, "GET", "/users/me/activity", t)
    assert a["announcement"] == f"alpha user är på kurs {at.custom_sv}." and a["forward_to"] == "1002"
    # another user cannot see or use it
    await req(client, "GET", f"/users/me/activities/{made['id']}", tok["beta-user"], expect=404)
    await req(client, "PUT", "/users/me/activity", tok["beta-user"],
              {"activity": "custom", "custom_activity_id": made["id"]}, expect=400)  # fmt: skip
    # deleting the current activity makes the user available
    await req(client, "DELETE", f"/users/me/activities/{made['id']}", t, expect=204)
    assert (await req(client, "GET", "/users/me/activity", t))["activity"] == "available"
    assert (await req(client, "GET", "/users/me/activities", t))["custom"] == []


async def test_settings(env: tuple, clock: FixedClock) -> None:
    client, _, tok = env
    t = tok["alpha-user"]
    s = await req(client, "GET", "/users/me/settings", t)
    assert s == {
        "closed": False, "closed_until": None, "forward_all": None, "forward_all_until": None,
        "forward_busy": None, "forward_no_answer": None, "forward_no_answer_seconds": 20,
        "outgoing_callerid": None, "outgoing_callerid_until": None, "block_anonymous": False,
    }  # fmt: skip
    end = clock() + timedelta(days=14)
    s = await req(client, "PUT", "/users/me/settings", t, {
        "closed": True, "closed_until": end.isoformat(), "forward_busy": "0046 8 123 456 78",
        "forward_no_answer": "1002", "forward_no_answer_seconds": 15, "outgoing_callerid": "own",
        "block_anonymous": True,
    })  # fmt: skip
    assert datetime.fromisoformat(s["closed_until"]) == end
    assert (s["closed"], s["forward_busy"], s["forward_no_answer"], s["forward_no_answer_seconds"]) == (
        True, "+46812345678", "1002", 15,
    )  # fmt: skip
    assert (s["outgoing_callerid"], s["block_anonymous"]) == ("own", True)
    # only the fields sent change; null switches off (and clears the end time)
    s2 = await req(client, "PUT", "/users/me/settings", t, {"closed": False, "forward_all": "+46701234567"})
    assert (s2["closed"], s2["closed_until"], s2["forward_all"], s2["forward_busy"]) == (
        False, None, "+46701234567", "+46812345678",
    )  # fmt: skip
    # a setting past its end time reads as off, with nothing written
    ends = clock() + timedelta(hours=1)
    s3 = await req(client, "PUT", "/users/me/settings", t, {"forward_all_until": ends.isoformat()})
    assert (s3["forward_all"], datetime.fromisoformat(s3["forward_all_until"])) == ("+46701234567", ends)
    clock.advance(timedelta(hours=1))
    assert (await req(client, "GET", "/users/me/settings", t))["forward_all"] is None


BAD_ACTIVITY = [
    ({"activity": "vacation"}, "unknown activity"),
    ({"activity": "meeting", "until": "2020-01-01T10:00:00+01:00"}, "in the past"),
    ({"activity": "meeting", "until": "2099-01-01T10:00"}, "timezone offset"),
    ({"activity": "meeting", "until": "not a time"}, "until"),
    ({"activity": "meeting", "duration_minutes": 45}, "must be one of 60, 120, 180"),
    ({"activity": "busy", "duration_minutes": 100000}, "must be one of 15, 30, 45"),
    ({"activity": "lunch", "duration_minutes": -1}, "must be one of 60"),
    ({"activity": "meeting", "duration_minutes": 60, "until_further_notice": True}, "at most one"),
    ({"activity": "custom"}, "needs custom_activity_id"),
    ({"activity": "custom", "custom_activity_id": 999999}, "unknown custom activity"),
    ({"activity": "busy", "custom_activity_id": 1}, "only for activity custom"),
    ({"activity": "busy", "note": "two\nlines"}, "control characters"),
    ({"activity": "busy", "note": "x" * 201}, "at most 200"),
    ({"activity": "busy", "colour": "red"}, "not a known field"),
]
BAD_CUSTOM = [
    ({"label": "Kurs\n", "spoken_text": "är på kurs"}, "control characters"),
    ({"label": "", "spoken_text": "är på kurs"}, "blank"),
    ({"label": "Kurs", "spoken_text": "är på\x00 kurs"}, "control characters"),
    ({"label": "Kurs", "spoken_text": '"""'}, "nothing that can be spoken"),
    ({"label": "x" * 61, "spoken_text": "är på kurs"}, "at most 60"),
    ({"label": "Kurs", "spoken_text": "är på kurs", "default_minutes": 0}, "default_minutes"),
    ({"label": "Kurs", "spoken_text": "är på kurs", "default_minutes": 43201}, "default_minutes"),
    ({"label": "Kurs", "spoken_text": "är på kurs", "destination": "forward"}, "needs forward_to"),
    (
        {"label": "Kurs", "spoken_text": "är på kurs", "destination": "forward", "forward_to": "12ab"},
        "forward_to",
    ),
    (
        {"label": "Kurs", "spoken_text": "är på kurs", "destination": "voicemail", "forward_to": "1002"},
        "only for",
    ),
    ({"label": "Kurs", "spoken_text": "är på kurs", "destination": "pager"}, "destination"),
    (
        {"label": "Kurs", "spoken_text": "är på kurs", "destination": "forward", "forward_to": "0939123456"},
        "premium numbers may not be forwarded to",
    ),
]
BAD_SETTINGS = [
    ({"forward_all": "12ab"}, "forward_all"),
    ({"forward_all": "+46 70 12"}, "forward_all"),
    ({"forward_all": "9999"}, "no user or group has extension 9999"),
    ({"forward_all": "1001"}, "own extension"),
    ({"forward_busy": "07-0123-4567-8901-2345"}, "forward_busy"),
    ({"forward_all": "0900 123 456"}, "premium numbers may not be forwarded to"),
    ({"forward_busy": "+44 20 7946 0123"}, "international numbers may not be forwarded to"),
    ({"forward_no_answer": "0044207946012"}, "international numbers may not be forwarded to"),
    ({"forward_no_answer": "08 700 000 00"}, "own numbers"),  # alpha-user's own DID
    ({"forward_all": "+46810000000"}, "own numbers"),  # alpha's main number
    ({"forward_all": "+46701234567", "forward_all_until": "2020-01-01T00:00:00Z"}, "in the past"),
    ({"closed": True, "closed_until": "2099-01-01T00:00:00Z"}, "days ahead"),
    ({"closed_until": "<a day after the clock>"}, "needs closed"),
    ({"forward_no_answer_seconds": 200}, "5 to 120"),
    ({"outgoing_callerid": "boss"}, "outgoing_callerid"),
    ({}, "nothing to update"),
    ({"closed": "maybe"}, "closed"),
]


@pytest.mark.parametrize(("method", "path", "body", "why"), [
    *[("PUT", "/users/me/activity", b, w) for b, w in BAD_ACTIVITY],
    *[("POST", "/users/me/activities", b, w) for b, w in BAD_CUSTOM],
    *[("PUT", "/users/me/settings", b, w) for b, w in BAD_SETTINGS],
])  # fmt: skip
async def test_bad_input_is_a_400_that_changes_nothing(
    env: tuple, db_pool: asyncpg.Pool, clock: FixedClock, method: str, path: str, body: dict, why: str
) -> None:
    client, _, tok = env
    tomorrow = (clock() + timedelta(days=1)).isoformat()
    body = {k: tomorrow if v == "<a day after the clock>" else v for k, v in body.items()}
    # some state to keep
    await req(client, "PUT", "/users/me/activity", tok["alpha-user"], {"activity": "meeting", "note": "keep"})
    await req(client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_busy": "1002"})
    before = await snapshot(db_pool)
    err = await req(client, method, path, tok["alpha-user"], body, expect=400)
    assert why in err["error"]["message"], err
    assert await snapshot(db_pool) == before


async def test_own_caller_id_needs_an_own_number(env: tuple) -> None:
    client, _, tok = env
    err = await req(
        client, "PUT", "/users/me/settings", tok["alpha-operator"], {"outgoing_callerid": "own"}, expect=400
    )
    assert "no number of your own" in err["error"]["message"]


async def test_platform_admins_have_no_activity(env: tuple) -> None:
    client, _, tok = env
    await req(client, "GET", "/users/me/activity", tok["root"], expect=403)
    await req(client, "PUT", "/users/me/settings", tok["root"], {"closed": True}, expect=403)


async def test_endpoints_are_in_the_openapi_document(env: tuple) -> None:
    client, _, _ = env
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for path in ("/users/me/activity", "/users/me/activities", "/users/me/activities/{activity_id}",
                 "/users/me/settings"):  # fmt: skip
        assert f"/api/v1{path}" in doc["paths"], path


# --- the prompt worker -----------------------------------------------------------------------------


async def test_the_worker_makes_the_announcement_and_remakes_it_after_a_rename(
    env: tuple, db_pool: asyncpg.Pool, db_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    client, world, tok = env
    t = tok["alpha-user"]
    # woken by NOTIFY on a connection of its own, not by the timer
    worker = PromptWorker(db_pool, tmp_path, interval_s=60, listen_dsn=db_url, clock=clock)
    await worker.start()
    try:
        a = await req(
            client, "PUT", "/users/me/activity", t, {"activity": "meeting", "until_further_notice": True}
        )
        assert a["announcement_ready"] is False  # the API does not wait for the audio
        first = await _ready(client, t)
        key = await db_pool.fetchval("SELECT prompt FROM user_activities")
        assert (tmp_path / f"{key}.wav").is_file()
        assert first["announcement"] == "alpha user är på möte tills vidare."
        # a rename makes the prompt stale (calls skip it) until the worker makes it again
        await db_pool.execute("UPDATE users SET name = 'Åsa Öberg' WHERE id = $1", world.users["alpha-user"])
        again = await _ready(client, t)
        assert again["announcement"] == "Åsa Öberg är på möte tills vidare."
        new_key = await db_pool.fetchval("SELECT prompt FROM user_activities")
        assert new_key != key and (tmp_path / f"{new_key}.wav").is_file()
        # the same sentence again: the cached file is reused
        assert worker.made == 2
    finally:
        await worker.stop()


async def test_the_worker_says_the_end_time_as_of_its_clock(
    env: tuple, db_pool: asyncpg.Pool, tmp_path: Path, fixed_clock: FixedClock
) -> None:
    client, _, tok = env
    t = tok["alpha-user"]
    worker = PromptWorker(db_pool, tmp_path, clock=fixed_clock)
    await req(client, "PUT", "/users/me/activity", t, {"activity": "meeting", "duration_minutes": 120})
    assert await worker.run_once() == 1
    a = await req(client, "GET", "/users/me/activity", t)
    assert a["announcement_ready"] is True
    assert a["announcement"] == f"alpha user är på möte {fixed_clock.instant.meeting_sv}."
    # an activity that has ended by the clock gets no audio
    await req(client, "PUT", "/users/me/activity", t, {"activity": "lunch"})
    fixed_clock.advance(timedelta(hours=1))
    assert await worker.run_once() == 0
    assert await db_pool.fetchval("SELECT prompt FROM user_activities") is None


async def _ready(client: TestClient, token: str, timeout_s: float = 15) -> dict:
    async with asyncio.timeout(timeout_s):
        while True:
            a = await req(client, "GET", "/users/me/activity", token)
            if a["announcement_ready"]:
                return a
            await asyncio.sleep(0.1)


async def test_the_worker_sweeps_unused_files(db_pool: asyncpg.Pool, tmp_path: Path) -> None:
    old = tmp_path / ("f" * 32 + ".wav")
    old.write_bytes(b"RIFF")
    os.utime(old, (0, 0))
    fresh = tmp_path / ("e" * 32 + ".wav")
    fresh.write_bytes(b"RIFF")
    other = tmp_path / "keep.txt"
    other.write_text("not ours")
    worker = PromptWorker(db_pool, tmp_path)
    assert await worker.sweep() == 1
    assert not old.exists() and fresh.exists() and other.exists()


@pytest.mark.security
async def test_toll_fraud_forwards_are_refused_as_destination_not_allowed(env: tuple) -> None:
    """Premium and international numbers and the organization's own numbers are 400
    destination_not_allowed; national and mobile numbers and another organization's are fine."""
    client, _, tok = env
    for body in (
        {"forward_all": "0944123456"},
        {"forward_busy": "+12025550123"},
        {"forward_all": "+46870000000"},
    ):
        err = await req(client, "PUT", "/users/me/settings", tok["alpha-user"], body, expect=400)
        assert err["error"]["code"] == "destination_not_allowed", err
    for number, stored in (
        ("08 123 456 78", "+46812345678"),
        ("070-123 45 67", "+46701234567"),
        ("+46870000001", "+46870000001"),
    ):
        s = await req(client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_all": number})
        assert s["forward_all"] == stored
