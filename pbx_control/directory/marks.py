"""Per-user marks: favorite, VIP and blocked on contacts; starred colleagues and answer groups; the
raw caller list (numbers with no contact). Owns the projection of VIP/blocked into caller_lists.

caller_lists (pbx_control/sql/002) is what the routing decision reads, one indexed table. Rows with contact_id
set are the projection of contact marks: one row per (user, contact number, kind). Rows with
contact_id NULL are the user's raw entries. The projection is recomputed, in the caller's
transaction, for exactly the (user, number) pairs a change can affect (`reproject`), so that when
two contacts share a number, or a raw entry covers the same number as a contact, removing one never
removes what the other still asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import asyncpg

from pbx_control.logs import get_logger
from pbx_control.tenancy.errors import Conflict, Invalid, NotFound

log = get_logger("pbx_control.directory.marks")
KINDS = ("vip", "blocked")


async def reproject(conn: asyncpg.Connection, user_ids: Iterable[int], numbers: Iterable[str]) -> None:
    """Make caller_lists' contact rows for users x numbers match contact_marks (inside a transaction)."""
    users = sorted(set(user_ids))
    nums = sorted(set(numbers))
    if not users or not nums:
        return
    await conn.execute(
        "DELETE FROM caller_lists"
        " WHERE user_id = ANY($1::bigint[]) AND number = ANY($2::text[]) AND contact_id IS NOT NULL",
        users,
        nums,
    )
    await conn.execute(
        """
        INSERT INTO caller_lists (user_id, number, kind, contact_id)
        SELECT DISTINCT ON (m.user_id, cn.number, k.kind) m.user_id, cn.number, k.kind, m.contact_id
          FROM contact_marks m
          JOIN contact_numbers cn ON cn.contact_id = m.contact_id
          CROSS JOIN LATERAL (VALUES ('vip', m.vip), ('blocked', m.blocked)) AS k (kind, marked)
         WHERE m.user_id = ANY($1::bigint[]) AND cn.number = ANY($2::text[]) AND k.marked
         ORDER BY m.user_id, cn.number, k.kind, m.contact_id
        ON CONFLICT (user_id, number, kind) DO NOTHING
        """,
        users,
        nums,
    )


async def marking_users(conn: asyncpg.Connection, contact_id: int) -> list[int]:
    """Users with a VIP or blocked mark on a contact (whose caller lists a change may touch)."""
    rows = await conn.fetch(
        "SELECT user_id FROM contact_marks WHERE contact_id = $1 AND (vip OR blocked)", contact_id
    )
    return [r["user_id"] for r in rows]


async def contact_numbers(conn: asyncpg.Connection, contact_id: int) -> list[str]:
    rows = await conn.fetch("SELECT number FROM contact_numbers WHERE contact_id = $1", contact_id)
    return [r["number"] for r in rows]


async def set_marks(
    conn: asyncpg.Connection,
    user_id: int,
    contact_id: int,
    *,
    favorite: bool | None = None,
    vip: bool | None = None,
    blocked: bool | None = None,
) -> dict[str, bool]:
    """Change the given marks (None: unchanged). Marking VIP clears blocked and the other way round;
    asking for both is Invalid. The contact must already be checked visible to the user."""
    if vip and blocked:
        raise Invalid("a contact cannot be both VIP and blocked")
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT favorite, vip, blocked FROM contact_marks WHERE user_id = $1 AND contact_id = $2"
            " FOR UPDATE",
            user_id,
            contact_id,
        )
        marks = dict(row) if row else {"favorite": False, "vip": False, "blocked": False}
        if favorite is not None:
            marks["favorite"] = favorite
        if vip is not None:
            marks["vip"] = vip
            if vip:
                marks["blocked"] = False
        if blocked is not None:
            marks["blocked"] = blocked
            if blocked:
                marks["vip"] = False
        if any(marks.values()):
            try:
                await _upsert_marks(conn, user_id, contact_id, marks)
            except asyncpg.ForeignKeyViolationError:
                raise NotFound("no such contact") from None  # deleted meanwhile
        else:
            await conn.execute(
                "DELETE FROM contact_marks WHERE user_id = $1 AND contact_id = $2", user_id, contact_id
            )
        await reproject(conn, [user_id], await contact_numbers(conn, contact_id))
    log.info("contact_marks_set", user_id=user_id, contact_id=contact_id, **marks)
    return marks


async def _upsert_marks(
    conn: asyncpg.Connection, user_id: int, contact_id: int, marks: dict[str, bool]
) -> None:
    await conn.execute(
        """
        INSERT INTO contact_marks (user_id, contact_id, favorite, vip, blocked)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (user_id, contact_id) DO UPDATE SET favorite = $3, vip = $4, blocked = $5
        """,
        user_id,
        contact_id,
        marks["favorite"],
        marks["vip"],
        marks["blocked"],
    )


# -- raw caller list ---------------------------------------------------------------------------

_LIST = """
SELECT cl.id, cl.number, cl.kind, cl.contact_id, c.name AS contact_name, cl.created_at
  FROM caller_lists cl LEFT JOIN contacts c ON c.id = cl.contact_id
 WHERE cl.user_id = $1
"""


async def list_caller_list(conn: asyncpg.Connection | asyncpg.Pool, user_id: int) -> list[dict[str, Any]]:
    """Every VIP and blocked number of a user: raw entries and those that come from contact marks."""
    rows = await conn.fetch(_LIST + " ORDER BY cl.kind, cl.number, cl.id", user_id)
    return [dict(r) for r in rows]


async def add_raw(conn: asyncpg.Connection, user_id: int, number: str, kind: str) -> dict[str, Any]:
    """A raw entry (number already normalized). Blocking a number drops its raw VIP entry and the
    other way round. If a contact mark already projects the same row, it becomes the raw entry (and
    stays when the mark goes)."""
    if kind not in KINDS:
        raise Invalid("kind must be vip or blocked")
    async with conn.transaction():
        other = "blocked" if kind == "vip" else "vip"
        await conn.execute(
            "DELETE FROM caller_lists"
            " WHERE user_id = $1 AND number = $2 AND kind = $3 AND contact_id IS NULL",
            user_id,
            number,
            other,
        )
        row = await conn.fetchrow(
            """
            INSERT INTO caller_lists (user_id, number, kind) VALUES ($1, $2, $3)
            ON CONFLICT (user_id, number, kind) DO UPDATE SET contact_id = NULL
            RETURNING id
            """,
            user_id,
            number,
            kind,
        )
        found = await conn.fetchrow(_LIST + " AND cl.id = $2", user_id, row["id"])
    log.info("caller_list_added", user_id=user_id, entry_id=row["id"], kind=kind)
    return dict(found)


async def remove_raw(conn: asyncpg.Connection, user_id: int, entry_id: int) -> None:
    """Remove a raw entry; an entry that comes from a contact mark is a Conflict (change the mark)."""
    async with conn.transaction():
        number = await conn.fetchval(
            "DELETE FROM caller_lists WHERE id = $1 AND user_id = $2 AND contact_id IS NULL RETURNING number",
            entry_id,
            user_id,
        )
        if number is None:
            contact_id = await conn.fetchval(
                "SELECT contact_id FROM caller_lists WHERE id = $1 AND user_id = $2", entry_id, user_id
            )
            if contact_id is not None:
                raise Conflict(
                    f"this entry comes from contact {contact_id}; change that contact's marks instead"
                )
            raise NotFound("no such caller list entry")
        # A contact mark may ask for the same number (its row was turned into this raw one).
        await reproject(conn, [user_id], [number])
    log.info("caller_list_removed", user_id=user_id, entry_id=entry_id)


# -- starred colleagues and groups -------------------------------------------------------------


async def set_favorite_colleague(
    conn: asyncpg.Connection | asyncpg.Pool, org_id: int, user_id: int, colleague_id: int, on: bool
) -> None:
    if colleague_id == user_id:
        raise Invalid("you cannot star yourself")
    exists = await conn.fetchval(
        "SELECT 1 FROM users WHERE id = $1 AND organization_id = $2", colleague_id, org_id
    )
    if not exists:
        raise NotFound("no such user")
    if on:
        await conn.execute(
            "INSERT INTO favorite_colleagues (user_id, colleague_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            colleague_id,
        )
    else:
        await conn.execute(
            "DELETE FROM favorite_colleagues WHERE user_id = $1 AND colleague_id = $2", user_id, colleague_id
        )


async def set_favorite_group(
    conn: asyncpg.Connection | asyncpg.Pool, org_id: int, user_id: int, group_id: int, on: bool
) -> None:
    exists = await conn.fetchval(
        "SELECT 1 FROM answer_groups WHERE id = $1 AND organization_id = $2", group_id, org_id
    )
    if not exists:
        raise NotFound("no such answer group")
    if on:
        await conn.execute(
            "INSERT INTO favorite_groups (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            user_id,
            group_id,
        )
    else:
        await conn.execute(
            "DELETE FROM favorite_groups WHERE user_id = $1 AND group_id = $2", user_id, group_id
        )
