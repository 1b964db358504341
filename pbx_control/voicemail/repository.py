"""SQL of visual voicemail: the owners of boxes, their settings and limits, the message mirror."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import asyncpg

from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import NotFound
from pbx_control.voicemail.box import Box

_OWNER = """
SELECT u.id, u.organization_id, u.extension, u.name, u.language, u.email, u.created_at, o.slug,
       coalesce(b.mail_enabled, false) AS mail_enabled, b.mail_to, b.max_messages, b.max_seconds,
       b.retention_days, b.default_greeting_sha, o.timezone
  FROM users u
  JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN voicemail_boxes b ON b.user_id = u.id
"""


async def owner(db: Db, org_id: int, user_id: int) -> asyncpg.Record:
    """The user and their box settings (404 for a user of another organization)."""
    row = await db.fetchrow(_OWNER + " WHERE u.id = $1 AND u.organization_id = $2", user_id, org_id)
    if row is None:
        raise NotFound("user not found")
    return row


async def owner_of_box(db: Db, box: Box) -> asyncpg.Record | None:
    return await db.fetchrow(_OWNER + " WHERE o.slug = $1 AND u.extension = $2", box.context, box.mailbox)


async def owners(db: Db, *, with_retention: bool = False) -> list[asyncpg.Record]:
    where = " WHERE u.extension IS NOT NULL" + (" AND b.retention_days IS NOT NULL" if with_retention else "")
    return list(await db.fetch(_OWNER + where + " ORDER BY u.id"))


_OWNERS_OF = """
 WHERE u.extension IS NOT NULL AND u.id IN (
       SELECT u2.id FROM unnest($1::text[], $2::text[]) AS b (slug, extension)
         JOIN organizations o2 ON o2.slug = b.slug
         JOIN users u2 ON u2.organization_id = o2.id AND u2.extension = b.extension
       UNION
       SELECT unnest($3::bigint[]))
 ORDER BY u.id"""


async def owners_of(db: Db, boxes: Iterable[Box], user_ids: Iterable[int]) -> list[asyncpg.Record]:
    """The owners of these boxes and these users (each once), by user id."""
    pairs = sorted({(b.context, b.mailbox) for b in boxes})
    query = _OWNER + _OWNERS_OF
    return list(await db.fetch(query, [c for c, _ in pairs], [m for _, m in pairs], sorted(set(user_ids))))


def box_of(row: asyncpg.Record) -> Box | None:
    return Box(row["slug"], row["extension"]) if row["extension"] else None


async def ensure_box(conn: Conn, org_id: int, user_id: int) -> None:
    await conn.execute(
        "INSERT INTO voicemail_boxes (user_id, organization_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user_id,
        org_id,
    )


async def set_fields(conn: Conn, org_id: int, user_id: int, fields: dict[str, Any]) -> None:
    await ensure_box(conn, org_id, user_id)
    for column, value in fields.items():
        assert column in ("mail_enabled", "mail_to", "max_messages", "max_seconds", "retention_days")
        await conn.execute(
            f"UPDATE voicemail_boxes SET {column} = $2 WHERE user_id = $1",  # noqa: S608 - a checked column
            user_id,
            value,
        )


# -- the message mirror ----------------------------------------------------------------------------

_MESSAGE = (
    "SELECT id, msg_id, folder, caller_number, caller_name, received_at, duration_s FROM voicemail_messages"
)


async def users_with_messages(db: Db) -> set[int]:
    """Every user with a mirrored message (a skip scan over voicemail_messages_user)."""
    rows = await db.fetch(
        """WITH RECURSIVE u AS (
               (SELECT user_id FROM voicemail_messages ORDER BY user_id LIMIT 1)
               UNION ALL
               SELECT (SELECT m.user_id FROM voicemail_messages m WHERE m.user_id > u.user_id
                        ORDER BY m.user_id LIMIT 1)
                 FROM u WHERE u.user_id IS NOT NULL)
           SELECT user_id FROM u WHERE user_id IS NOT NULL"""
    )
    return {r["user_id"] for r in rows}


async def mirrored(db: Db, user_id: int) -> list[asyncpg.Record]:
    return list(await db.fetch(_MESSAGE + " WHERE user_id = $1 ORDER BY received_at DESC, id DESC", user_id))


async def message(db: Db, org_id: int, user_id: int, message_id: int) -> asyncpg.Record:
    row = await db.fetchrow(
        _MESSAGE + " WHERE id = $1 AND user_id = $2 AND organization_id = $3", message_id, user_id, org_id
    )
    if row is None:
        raise NotFound("message not found")
    return row


async def insert(
    conn: Conn,
    org_id: int,
    user_id: int,
    msg_id: str,
    folder: str,
    number: str | None,
    name: str | None,
    received_at: datetime,
    duration_s: int,
) -> asyncpg.Record | None:
    """The new row, or None when another sync mirrored it first (only that one announces it)."""
    return await conn.fetchrow(
        "INSERT INTO voicemail_messages (organization_id, user_id, msg_id, folder, caller_number,"
        " caller_name, received_at, duration_s) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (user_id, msg_id) DO NOTHING"
        " RETURNING id, msg_id, folder, caller_number, caller_name, received_at, duration_s",
        org_id,
        user_id,
        msg_id,
        folder,
        number,
        name,
        received_at,
        duration_s,
    )


async def set_folder(conn: Conn, user_id: int, msg_id: str, folder: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "UPDATE voicemail_messages SET folder = $3 WHERE user_id = $1 AND msg_id = $2 AND folder <> $3"
        " RETURNING id, msg_id, folder, caller_number, caller_name, received_at, duration_s",
        user_id,
        msg_id,
        folder,
    )


async def forget(conn: Conn, user_id: int, msg_id: str) -> int | None:
    found: int | None = await conn.fetchval(
        "DELETE FROM voicemail_messages WHERE user_id = $1 AND msg_id = $2 RETURNING id", user_id, msg_id
    )
    return found
