"""Per-user marks on the phonebook: favorite, VIP and blocked on contacts; starred colleagues and
answer groups. VIP and blocked marks are projected into the user's caller lists by the feature
that owns those (reachability/callers.py)."""

from __future__ import annotations

import asyncpg

from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import Invalid, NotFound
from pbx_control.logs import get_logger
from pbx_control.reachability.callers import contact_numbers, reproject

log = get_logger("pbx_control.directory.marks")


async def set_marks(
    conn: Conn,
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


async def _upsert_marks(conn: Conn, user_id: int, contact_id: int, marks: dict[str, bool]) -> None:
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


# -- starred colleagues and groups -------------------------------------------------------------


async def set_favorite_colleague(conn: Db, org_id: int, user_id: int, colleague_id: int, on: bool) -> None:
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


async def set_favorite_group(conn: Db, org_id: int, user_id: int, group_id: int, on: bool) -> None:
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
