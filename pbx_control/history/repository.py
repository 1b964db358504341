"""The history's queries: one user's calls newest first (keyset paging on the user's index), an
organization's for its admins, marking missed calls seen, and the retention purge.

EXPLAIN of the user query on 100,000 rows of one user (tests/integration/test_history_queries.py
asserts it): Limit -> Nested Loop Left Join -> Index Scan using call_history_user on call_history h
(Index Cond: user_id = $1 AND ROW(started_at, id) < ROW($2, $3)); `missed` and `voicemail` use the
partial indexes call_history_user_missed / call_history_user_voicemail the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

from pbx_control.directory.caller_names import caller_names
from pbx_control.history import cursor as cursors
from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import NotFound

Filter = Literal["all", "missed", "voicemail"]
FILTERS: tuple[Filter, ...] = ("all", "missed", "voicemail")
_CONDITION: dict[Filter, str] = {"all": "", "missed": "AND h.missed", "voicemail": "AND h.voicemail"}

_COLUMNS = """
SELECT h.id, h.user_id, h.direction, h.result, h.missed, h.voicemail, h.seen, h.started_at,
       h.answered_at, h.ended_at, h.duration_s, h.peer_number, h.peer_name, h.device_id,
       h.device_endpoint, d.kind AS device_kind, d.label AS device_label, h.hangup_cause
  FROM call_history h
  LEFT JOIN devices d ON d.id = h.device_id
"""


def user_query(filter_: Filter, after: bool) -> str:
    """One user's page; $1 user, $2 limit, ($3, $4) the cursor's position when `after`."""
    position = "AND (h.started_at, h.id) < ($3, $4)" if after else ""
    return f"""{_COLUMNS}
 WHERE h.user_id = $1 {_CONDITION[filter_]} {position}
 ORDER BY h.started_at DESC, h.id DESC
 LIMIT $2"""


def org_query(filter_: Filter, after: bool) -> str:
    """An organization's page; $1 organization, $2 limit, ($3, $4) the cursor's position."""
    position = "AND (h.started_at, h.id) < ($3, $4)" if after else ""
    return f"""{_COLUMNS}
 WHERE h.organization_id = $1 {_CONDITION[filter_]} {position}
 ORDER BY h.started_at DESC, h.id DESC
 LIMIT $2"""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, object]]
    next_cursor: str | None
    unseen_missed: int


async def _page(
    conn: Conn, sql: str, key: int, limit: int, cursor: str | None, slug: str, unseen_missed: int
) -> Page:
    args: list[object] = [key, limit + 1]
    if cursor is not None:
        args.extend(cursors.decode(cursor))
    rows = await conn.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    names = await _names(conn, slug, rows)
    items = [_item(r, names.get((r["user_id"], r["peer_number"]))) for r in rows]
    last = rows[-1] if rows else None
    next_cursor = cursors.encode(last["started_at"], last["id"]) if more and last is not None else None
    return Page(items, next_cursor, unseen_missed)


async def _names(conn: Conn, slug: str, rows: list[asyncpg.Record]) -> dict[tuple[int, str], str | None]:
    """The other party's name for each (user, number) of the page: one lookup per user on it."""
    by_user: dict[int, set[str]] = {}
    for r in rows:
        if r["peer_number"]:
            by_user.setdefault(r["user_id"], set()).add(r["peer_number"])
    out: dict[tuple[int, str], str | None] = {}
    for user_id, numbers in by_user.items():
        for number, name in (await caller_names(conn, slug, user_id, numbers)).items():
            out[(user_id, number)] = name
    return out


def _item(r: asyncpg.Record, directory_name: str | None) -> dict[str, object]:
    device = None
    if r["device_id"] is not None:
        device = {
            "id": r["device_id"],
            "kind": r["device_kind"],
            "label": r["device_label"],
            "sip_username": r["device_endpoint"],
        }
    return {
        "id": r["id"],
        "user_id": r["user_id"],
        "direction": r["direction"],
        "result": r["result"],
        "missed": r["missed"],
        "voicemail": r["voicemail"],
        "seen": r["seen"],
        "started_at": r["started_at"],
        "answered_at": r["answered_at"],
        "ended_at": r["ended_at"],
        "duration_s": r["duration_s"],
        "peer_number": r["peer_number"],
        "peer_name": directory_name or r["peer_name"] or None,
        "device": device,
        "hangup_cause": r["hangup_cause"],
    }


async def _slug(conn: Conn, org_id: int) -> str:
    slug: str | None = await conn.fetchval("SELECT slug FROM organizations WHERE id = $1", org_id)
    if slug is None:
        raise NotFound("organization not found")
    return slug


# The count is kept per user by the triggers of sql/031_history_unseen.sql.
_UNSEEN = "coalesce((SELECT n FROM history_unseen WHERE user_id = $1), 0)"
_OWNER = (
    f"SELECT o.slug, {_UNSEEN} AS unseen FROM users u JOIN organizations o ON o.id = u.organization_id"  # noqa: S608 (constants)
    " WHERE u.id = $1 AND u.organization_id = $2"
)


async def unseen_missed(conn: Conn, user_id: int) -> int:
    n: int = await conn.fetchval(f"SELECT {_UNSEEN}", user_id)
    return n


async def user_history(
    conn: Conn, org_id: int, user_id: int, filter_: Filter, limit: int, cursor: str | None
) -> Page:
    """One user's calls, newest first. A user outside org_id: NotFound (another organization's)."""
    owner = await conn.fetchrow(_OWNER, user_id, org_id)
    if owner is None:
        raise NotFound("user not found")
    return await _page(
        conn, user_query(filter_, cursor is not None), user_id, limit, cursor, owner["slug"], owner["unseen"]
    )


async def org_history(conn: Conn, org_id: int, filter_: Filter, limit: int, cursor: str | None) -> Page:
    return await _page(
        conn, org_query(filter_, cursor is not None), org_id, limit, cursor, await _slug(conn, org_id), 0
    )


async def mark_seen(conn: Conn, user_id: int, history_id: int) -> None:
    found = await conn.fetchval(
        "UPDATE call_history SET seen = true WHERE id = $1 AND user_id = $2 RETURNING id", history_id, user_id
    )
    if found is None:
        raise NotFound("no such call in your history")


async def mark_seen_up_to(conn: Conn, user_id: int, history_id: int) -> int:
    """Every missed call of the user up to and including `history_id` (in history order) is seen."""
    at = await conn.fetchrow(
        "SELECT started_at, id FROM call_history WHERE id = $1 AND user_id = $2", history_id, user_id
    )
    if at is None:
        raise NotFound("no such call in your history")
    status: str = await conn.execute(
        """UPDATE call_history SET seen = true
            WHERE user_id = $1 AND missed AND NOT seen AND (started_at, id) <= ($2, $3)""",
        user_id,
        at["started_at"],
        at["id"],
    )
    return int(status.split()[-1])


_OF_CALL = f"""{_COLUMNS}
 WHERE h.linkedid = $1
 ORDER BY h.id"""
_OWNERS = """
SELECT u.id, o.slug, coalesce(array_agg(d.sip_username) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM users u JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE u.id = ANY($1::bigint[])
 GROUP BY u.id, o.slug
"""


async def rows_of_call(conn: Conn, linkedid: str) -> list[tuple[str, list[str], dict[str, object]]]:
    """A call's history rows as the history shows them, each with its user's organization slug
    and devices (for `history.added`)."""
    rows = await conn.fetch(_OF_CALL, linkedid)
    if not rows:
        return []
    owners = {r["id"]: r for r in await conn.fetch(_OWNERS, sorted({r["user_id"] for r in rows}))}
    out = []
    for r in rows:
        owner = owners.get(r["user_id"])
        if owner is None:
            continue
        names = await _names(conn, owner["slug"], [r])
        item = _item(r, names.get((r["user_id"], r["peer_number"])))
        out.append((owner["slug"], list(owner["endpoints"]), item))
    return out


async def purge(db: Db, now: datetime, retention_days: int, batch: int = 5000) -> int:
    """Delete history rows and channel events older than the retention; returns rows deleted."""
    before = now - timedelta(days=retention_days)
    total = 0
    for sql in (
        "DELETE FROM call_history WHERE id IN (SELECT id FROM call_history WHERE started_at < $1 LIMIT $2)",
        "DELETE FROM cel WHERE id IN"
        " (SELECT id FROM cel WHERE eventtime < ($1::timestamptz AT TIME ZONE 'UTC') LIMIT $2)",
    ):
        while True:
            status: str = await db.execute(sql, before, batch)
            n = int(status.split()[-1])
            total += n
            if n < batch:
                break
    return total
