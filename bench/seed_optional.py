"""Rows for tables other issues own (answer groups, contacts), written only when their tables exist.

Each part checks its tables at run time; a missing table gives "not yet: ...", a refused COPY (the
schema moved under us) gives "not seeded: ..." instead of failing the whole run.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

from pbx_control.voicemail.box import Box
from pbx_control.voicemail.greeting import made_for

# (user id, organization id, organization number, extension)
UserRow = tuple[int, int, int, int]
MEMBERS_PER_GROUP = 5
GROUP_FIRST_EXTENSION = 5000


async def _tables_exist(conn: asyncpg.Connection, *names: str) -> bool:
    for name in names:
        if await conn.fetchval("SELECT to_regclass($1)", name) is None:
            return False
    return True


async def _guarded(
    conn: asyncpg.Connection, tables: Sequence[str], fill: Callable[[], Awaitable[Any]]
) -> Any:
    if not await _tables_exist(conn, *tables):
        return f"not yet: no {' / '.join(tables)} table"
    try:
        async with conn.transaction():
            return await fill()
    except (asyncpg.PostgresError, asyncpg.DataError) as exc:
        return f"not seeded: {type(exc).__name__}: {str(exc)[:160]}"


async def seed_groups(
    conn: asyncpg.Connection, count: int, users: Sequence[UserRow], organizations: int
) -> tuple[Any, list[tuple[int, int, int]]]:
    """`count` answer groups spread over the organizations, MEMBERS_PER_GROUP members each (half
    logged in). Returns (count or why not, [(group id, user id, extension) of every member])."""
    members: list[tuple[int, int, int]] = []

    async def fill() -> int:
        by_org: dict[int, list[UserRow]] = {}
        for row in users:
            by_org.setdefault(row[2], []).append(row)
        org_ids = {row[2]: row[1] for row in users}
        groups = [
            (org_ids[k % organizations], str(GROUP_FIRST_EXTENSION + k // organizations), f"Group {k}")
            for k in range(count)
        ]
        await conn.copy_records_to_table(
            "answer_groups", columns=["organization_id", "extension", "name"], records=groups
        )
        rows = await conn.fetch("SELECT g.id, g.organization_id FROM answer_groups g ORDER BY g.id")
        org_number = {oid: n for n, oid in org_ids.items()}
        rng = random.Random(7)
        records = []
        for group_id, org_id in ((r["id"], r["organization_id"]) for r in rows):
            candidates = by_org[org_number[org_id]]
            for position, (uid, _oid, _n, ext) in enumerate(
                rng.sample(candidates, min(MEMBERS_PER_GROUP, len(candidates))), start=1
            ):
                records.append((group_id, uid, position, position % 2 == 0))
                members.append((group_id, uid, ext))
        await conn.copy_records_to_table(
            "answer_group_members", columns=["group_id", "user_id", "position", "logged_in"], records=records
        )
        return count

    done = await _guarded(conn, ("answer_groups", "answer_group_members"), fill)
    return done, members if isinstance(done, int) else []


async def seed_contacts(conn: asyncpg.Connection, count: int, users: Sequence[UserRow]) -> Any:
    """`count` contacts (half in the organization's phonebook, half personal), one number each, and
    a VIP, blocked or favourite mark on every tenth."""

    async def fill() -> int:
        rng = random.Random(11)
        picks = [rng.choice(users) for _ in range(count)]
        await conn.copy_records_to_table(
            "contacts",
            columns=["organization_id", "owner_user_id", "name", "company"],
            records=[
                (oid, uid if k % 2 else None, f"Contact {k:06d}", f"Company {k % 997}")
                for k, (uid, oid, _n, _e) in enumerate(picks)
            ],
        )
        rows = await conn.fetch("SELECT id, organization_id, owner_user_id FROM contacts ORDER BY id")
        await conn.copy_records_to_table(
            "contact_numbers",
            columns=["contact_id", "organization_id", "owner_user_id", "position", "number"],
            records=[
                (r["id"], r["organization_id"], r["owner_user_id"], 0, f"+4676{k:07d}")
                for k, r in enumerate(rows)
            ],
        )
        marks = []
        for k, r in enumerate(rows):
            if k % 10 == 0:
                uid = r["owner_user_id"] or picks[k][0]
                marks.append((uid, r["id"], k % 30 == 0, k % 30 == 10, k % 30 == 20))
        if await _tables_exist(conn, "contact_marks"):
            await conn.copy_records_to_table(
                "contact_marks",
                columns=["user_id", "contact_id", "favorite", "vip", "blocked"],
                records=marks,
            )
        return count

    return await _guarded(conn, ("contacts", "contact_numbers"), fill)


async def seed_default_greetings(
    conn: asyncpg.Connection, users: Sequence[tuple[int, int, str, str, str, str]]
) -> Any:
    """Every box as the default-greetings worker leaves it once it has caught up: made for the
    user's name, language and box, and the user no longer due. The seed stands for a platform that
    grew to its size, where each greeting was made when its user was created; the audio files are
    not written (the bench's calls never reach a mailbox, and 100,000 of them are gigabytes).
    Without this, the worker's catch-up on 100,000 fresh users (about 10 a second) would run
    through every measurement. users: (user id, organization id, slug, extension, name, language).
    """

    async def fill() -> int:
        await conn.copy_records_to_table(
            "voicemail_boxes",
            columns=["user_id", "organization_id", "default_greeting_for"],
            records=[(uid, oid, made_for(name, lang, Box(s, ext))) for uid, oid, s, ext, name, lang in users],
        )
        # A column of its own, not a trigger's: nothing else fires (sql/030).
        await conn.execute("UPDATE users SET default_greeting_due = false WHERE default_greeting_due")
        return len(users)

    column = await conn.fetchval(
        "SELECT 1 FROM information_schema.columns"
        " WHERE table_name = 'users' AND column_name = 'default_greeting_due'"
    )
    if column is None:
        return "not yet: no users.default_greeting_due"
    return await _guarded(conn, ("voicemail_boxes",), fill)
