"""Visual voicemail on PostgreSQL (no Asterisk here; tests/e2e/test_voicemail_visual.py has the
calls): settings and limits with bad input refused and nothing changed, the limits in the boxes
app_voicemail reads, the list from the mirror when Asterisk cannot be asked, the purges queued when
a user goes away, and the default greeting spoken with the owner's name (espeak-ng, sox)."""

from __future__ import annotations

import wave
from pathlib import Path

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import World, bearer, login
from pbx_control.voicemail.box import Box
from pbx_control.voicemail.spool import Spool
from pbx_control.voicemail.workers import DefaultGreetings

pytestmark = [pytest.mark.integration, pytest.mark.voicemail]
API = "/api/v1"


async def _rows(pool: asyncpg.Pool) -> list[dict[str, object]]:
    return [dict(r) for r in await pool.fetch("SELECT * FROM voicemail_boxes ORDER BY user_id")]


async def test_settings_refuse_what_is_not_an_address_and_change_nothing(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    h = bearer(await login(client, "alpha-user"))
    before = await _rows(db_pool)
    for body in (
        {"mail_to": "not an address"},
        {"mail_to": "a@b"},
        {"mail": True, "mail_to": "x\n@example.com"},
    ):
        resp = await client.put(f"{API}/users/me/voicemail/settings", json=body, headers=h)
        assert resp.status == 400, body
        assert set((await resp.json())["error"]) == {"code", "message"}
    # mail on with no address at all (no mail_to, no email on the account)
    resp = await client.put(f"{API}/users/me/voicemail/settings", json={"mail": True}, headers=h)
    assert resp.status == 400 and "address" in (await resp.json())["error"]["message"]
    assert await _rows(db_pool) == before
    resp = await client.put(
        f"{API}/users/me/voicemail/settings", json={"mail": True, "mail_to": "anna@example.com"}, headers=h
    )
    got = await resp.json()
    assert resp.status == 200, got
    assert (got["mail"], got["mail_to"], got["mail_address"]) == (
        True,
        "anna@example.com",
        "anna@example.com",
    )
    assert got["mailbox"] == "1001@alpha" and got["greeting"] == "default"
    assert got["limits"] == {"max_messages": 100, "max_seconds": 300, "retention_days": None}


async def test_an_admin_sets_limits_that_app_voicemail_reads(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    user = world.users["alpha-user"]
    path = f"{API}/users/{user}/voicemail/limits"
    bad = await client.put(path, json={"max_messages": 0}, headers=admin)
    assert bad.status == 400
    resp = await client.put(path, json={"max_messages": 20, "max_seconds": 60}, headers=admin)
    assert resp.status == 200 and await resp.json() == {
        "max_messages": 20,
        "max_seconds": 60,
        "retention_days": None,
    }
    resp = await client.put(path, json={"retention_days": 30}, headers=admin)  # only what is sent changes
    assert await resp.json() == {"max_messages": 20, "max_seconds": 60, "retention_days": 30}
    row = await db_pool.fetchrow(
        "SELECT maxmsg, maxsecs FROM pbx_voicemail_users WHERE context = 'alpha' AND mailbox = '1001'"
    )
    assert row is not None and (row["maxmsg"], row["maxsecs"]) == ("20", "60")
    user_h = bearer(await login(client, "alpha-user"))
    assert (await client.put(path, json={"max_messages": 1}, headers=user_h)).status == 403
    got = await (await client.get(f"{API}/users/me/voicemail/settings", headers=user_h)).json()
    assert got["limits"]["retention_days"] == 30


async def test_the_list_comes_from_the_mirror_when_asterisk_cannot_be_asked(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    mine = await db_pool.fetchval(
        "INSERT INTO voicemail_messages (organization_id, user_id, msg_id, folder, caller_number,"
        " caller_name, received_at, duration_s)"
        " VALUES ($1, $2, '1796000000-00000001', 'Old', '1002', 'Op Erator',"
        " '2026-12-02T10:00:00Z', 4), ($1, $2, '1796000100-00000002', 'INBOX', NULL, NULL,"
        " '2026-12-02T11:00:00Z', 9) RETURNING id",
        world.orgs["alpha"],
        world.users["alpha-user"],
    )
    h = bearer(await login(client, "alpha-user"))
    got = await (await client.get(f"{API}/users/me/voicemail", headers=h)).json()
    assert got["live"] is False and (got["new"], got["played"]) == (1, 1)
    assert [m["duration_s"] for m in got["messages"]] == [9, 4]  # newest first
    assert got["messages"][1]["caller_name"] == "Op Erator" and got["messages"][1]["played"] is True
    other = bearer(await login(client, "alpha-operator"))
    assert (await client.get(f"{API}/users/me/voicemail/messages/{mine}", headers=other)).status == 404
    # changing it needs Asterisk: 503 with the error body, nothing changed
    resp = await client.put(f"{API}/users/me/voicemail/messages/{mine}", json={"played": False}, headers=h)
    assert resp.status == 503 and (await resp.json())["error"]["code"] == "voicemail_unavailable"
    assert await db_pool.fetchval("SELECT folder FROM voicemail_messages WHERE id = $1", mine) == "Old"


async def test_a_user_deleted_or_renumbered_queues_their_box_for_emptying(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    resp = await client.patch(
        f"{API}/users/{world.users['alpha-operator']}", json={"extension": "1077"}, headers=admin
    )
    assert resp.status == 200
    resp = await client.delete(f"{API}/users/{world.users['alpha-user']}", headers=admin)
    assert resp.status == 204
    queued = [
        tuple(r) for r in await db_pool.fetch("SELECT context, mailbox FROM voicemail_purges ORDER BY id")
    ]
    assert queued == [("alpha", "1002"), ("alpha", "1001")]
    # app_voicemail still knows the boxes (its AMI actions need that) until they are emptied
    known = await db_pool.fetch(
        "SELECT mailbox FROM pbx_voicemail_users WHERE context = 'alpha' ORDER BY mailbox"
    )
    assert [r["mailbox"] for r in known] == ["1000", "1001", "1002", "1077"]


async def test_the_default_greeting_says_the_owners_name_and_never_replaces_their_own(
    world: World, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    await db_pool.execute("DELETE FROM users WHERE organization_id = $1", world.orgs["beta"])
    spool = Spool(tmp_path / "spool")
    worker = DefaultGreetings(db_pool, tmp_path / "prompts", spool, batch=10)
    assert await worker.run_once() == 3  # alpha's admin, user and operator
    box = Box("alpha", "1001")
    unavail = spool.box_dir(box) / "unavail.wav"
    with wave.open(str(unavail)) as w:
        assert (w.getframerate(), w.getnchannels()) == (8000, 1) and w.getnframes() > 8000
    first = unavail.read_bytes()
    assert spool.greeting(box, "busy") == first
    user = world.users["alpha-user"]
    sha_sql = "SELECT default_greeting_sha FROM voicemail_boxes WHERE user_id = $1"
    assert not spool.own_greeting(box, await db_pool.fetchval(sha_sql, user))
    assert await worker.run_once() == 0  # nothing stale
    await db_pool.execute("UPDATE users SET name = 'Annika Andersson' WHERE id = $1", user)
    assert await worker.run_once() == 1
    renamed = unavail.read_bytes()
    assert renamed != first and spool.greeting(box, "busy") == renamed
    # the owner's own greeting (recorded through 001) stays; the default busy greeting follows
    spool.write_greeting(box, b"RIFF own greeting", "unavail")
    await db_pool.execute("UPDATE users SET language = 'en' WHERE id = $1", user)
    assert await worker.run_once() == 1
    assert unavail.read_bytes() == b"RIFF own greeting"
    assert spool.greeting(box, "busy") not in (renamed, b"RIFF own greeting")
    assert spool.own_greeting(box, await db_pool.fetchval(sha_sql, user))


async def test_only_users_marked_due_are_read_and_every_change_of_the_words_marks_them(
    world: World, db_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    """The worker reads the due users (sql/030's partial index), not every user each round."""
    await db_pool.execute("DELETE FROM users WHERE organization_id = $1", world.orgs["beta"])
    worker = DefaultGreetings(db_pool, tmp_path / "prompts", Spool(tmp_path / "spool"), batch=10)

    async def due() -> set[int]:
        rows = await db_pool.fetch(
            "SELECT id FROM users WHERE default_greeting_due AND extension IS NOT NULL"
        )
        return {r["id"] for r in rows}

    assert len(await due()) == 3  # new users are due
    assert await worker.run_once() == 3
    assert await due() == set()
    user = world.users["alpha-user"]
    for change in ("name = 'Annika Andersson'", "language = 'en'", "extension = '1077'"):
        await db_pool.execute(f"UPDATE users SET {change} WHERE id = $1", user)  # noqa: S608
        assert await due() == {user}, change
        assert await worker.run_once() == 1
        assert await due() == set()
    # a box reset to be written again (own greeting deleted, a purge for a new owner) marks it too
    await db_pool.execute("UPDATE voicemail_boxes SET default_greeting_for = NULL WHERE user_id = $1", user)
    assert await due() == {user}
    # a rename between the worker's read and its clearing keeps the mark (the words it made are old)
    await DefaultGreetings._settled(db_pool, user, "Someone Else|sv|1077@alpha")
    assert await due() == {user}
    assert await worker.run_once() == 1 and await due() == set()
    # an organization's slug changed: its users' boxes are named after it
    await db_pool.execute("UPDATE organizations SET slug = 'alpha2' WHERE id = $1", world.orgs["alpha"])
    assert len(await due()) == 3
