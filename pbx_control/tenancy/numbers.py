"""External numbers (DIDs) of an organization, stored as E.164, each routed to a user or to none."""

from __future__ import annotations

from typing import Any

from pbx_control.kernel.db import Conn, Db, rows, transaction
from pbx_control.kernel.errors import NotFound
from pbx_control.tenancy import number_ranges, phone_numbers

_SELECT = "SELECT id, number, organization_id, user_id, created_at FROM numbers"
_INSERT = (
    "INSERT INTO numbers (number, organization_id, user_id) VALUES ($1, $2, $3)"
    " RETURNING id, number, organization_id, user_id, created_at"
)
_ASSIGN = (
    "UPDATE numbers SET user_id = $3 WHERE id = $2 AND organization_id = $1"
    " RETURNING id, number, organization_id, user_id, created_at"
)


async def _check_user(conn: Conn, org_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    found = await conn.fetchval(
        "SELECT id FROM users WHERE id = $2 AND organization_id = $1 FOR KEY SHARE", org_id, user_id
    )
    if found is None:
        raise NotFound("user not found")


async def create_number(
    db: Db,
    org_id: int,
    number: str,
    user_id: int | None = None,
    *,
    from_ranges: bool = False,
    default_country_code: str = phone_numbers.DEFAULT_COUNTRY_CODE,
) -> dict[str, Any]:
    """Add a number (any accepted format, stored as E.164), optionally pointing at a user of org_id.
    from_ranges: the organization's admin asks, who may take only numbers of the organization's
    ranges (Forbidden otherwise); without it the platform assigns the number."""
    e164 = phone_numbers.normalize(number, default_country_code)
    async with transaction(db) as conn:
        await _check_user(conn, org_id, user_id)
        if from_ranges:
            await number_ranges.check_claim(conn, org_id, e164)
        rec = await conn.fetchrow(
            _INSERT,
            e164,
            org_id,
            user_id,
        )
    assert rec is not None  # RETURNING gives the row back
    return dict(rec)


async def list_numbers(db: Db, org_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
    recs = await db.fetch(
        f"{_SELECT} WHERE organization_id = $1 AND ($2::bigint IS NULL OR user_id = $2) ORDER BY number",
        org_id,
        user_id,
    )
    return rows(recs)


async def get_number(db: Db, org_id: int, number_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(f"{_SELECT} WHERE id = $2 AND organization_id = $1", org_id, number_id)
    if rec is None:
        raise NotFound("number not found")
    return dict(rec)


async def assign_number(db: Db, org_id: int, number_id: int, user_id: int | None) -> dict[str, Any]:
    """Point the number at a user of org_id, or at nobody (None)."""
    async with transaction(db) as conn:
        await _check_user(conn, org_id, user_id)
        rec = await conn.fetchrow(
            _ASSIGN,
            org_id,
            number_id,
            user_id,
        )
    if rec is None:
        raise NotFound("number not found")
    return dict(rec)


async def delete_number(db: Db, org_id: int, number_id: int) -> None:
    status = await db.execute("DELETE FROM numbers WHERE id = $2 AND organization_id = $1", org_id, number_id)
    if status == "DELETE 0":
        raise NotFound("number not found")
