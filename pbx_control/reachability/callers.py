"""VIP and blocked callers: per-user caller lists, the one indexed table the routing of a call
reads (caller_lists, sql/002). A VIP rings through a diversion; a blocked caller hears busy and
never rings (the rule itself: reachability/decision.py).

Rows with contact_id set are the projection of contact marks (directory/marks.py): one row per
(user, contact number, kind). Rows with contact_id NULL are the user's raw entries. The projection
is recomputed, in the caller's transaction, for exactly the (user, number) pairs a change can
affect (`reproject`), so that when two contacts share a number, or a raw entry covers the same
number as a contact, removing one never removes what the other still asks for.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import Conflict, Invalid, NotFound
from pbx_control.logs import get_logger

log = get_logger(__name__)
KINDS = ("vip", "blocked")


async def reproject(conn: Conn, user_ids: Iterable[int], numbers: Iterable[str]) -> None:
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


async def marking_users(conn: Conn, contact_id: int) -> list[int]:
    """Users with a VIP or blocked mark on a contact (whose caller lists a change may touch)."""
    rows = await conn.fetch(
        "SELECT user_id FROM contact_marks WHERE contact_id = $1 AND (vip OR blocked)", contact_id
    )
    return [r["user_id"] for r in rows]


async def contact_numbers(conn: Conn, contact_id: int) -> list[str]:
    rows = await conn.fetch("SELECT number FROM contact_numbers WHERE contact_id = $1", contact_id)
    return [r["number"] for r in rows]


_LIST = """
SELECT cl.id, cl.number, cl.kind, cl.contact_id, c.name AS contact_name, cl.created_at
  FROM caller_lists cl LEFT JOIN contacts c ON c.id = cl.contact_id
 WHERE cl.user_id = $1
"""


async def list_caller_list(conn: Db, user_id: int) -> list[dict[str, Any]]:
    """Every VIP and blocked number of a user: raw entries and those that come from contact marks."""
    rows = await conn.fetch(_LIST + " ORDER BY cl.kind, cl.number, cl.id", user_id)
    return [dict(r) for r in rows]


async def add_raw(conn: Conn, user_id: int, number: str, kind: str) -> dict[str, Any]:
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
        assert row is not None  # RETURNING gives the row back
        found = await conn.fetchrow(_LIST + " AND cl.id = $2", user_id, row["id"])
        assert found is not None  # inserted just above, in this transaction
    log.info("caller_list_added", user_id=user_id, entry_id=row["id"], kind=kind)
    return dict(found)


async def remove_raw(conn: Conn, user_id: int, entry_id: int) -> None:
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
