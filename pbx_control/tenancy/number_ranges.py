"""Number ranges: which numbers an organization's admin may take (issue 13, item 4).

Numbers (DIDs, answer group numbers) become caller IDs, so they are the platform's to give: the
platform admin assigns a number to an organization (numbers.create_number) or gives it a range
(`+46855500000` to `+46855500099`); the organization's admin adds numbers only from its own
ranges. A number outside them is refused the same way (403) whether it is free or held by another
organization, so the answer says nothing of other organizations. PostgreSQL keeps ranges of
different organizations apart (sql/019_number_ranges.sql).
"""

from __future__ import annotations

from typing import Any

from pbx_control.kernel.db import Conn, Db, rows, transaction
from pbx_control.kernel.errors import Forbidden, Invalid, NotFound
from pbx_control.tenancy import phone_numbers

MAX_RANGE = 1_000_000  # numbers in one range
_COLUMNS = "id, organization_id, first_number, last_number, created_at"
NOT_YOURS = "number is not in one of your organization's number ranges; the platform admin assigns numbers"


async def list_ranges(db: Db, org_id: int) -> list[dict[str, Any]]:
    recs = await db.fetch(
        f"SELECT {_COLUMNS} FROM number_ranges WHERE organization_id = $1 ORDER BY first_number",  # noqa: S608
        org_id,
    )
    return rows(recs)


async def create_range(db: Db, org_id: int, first: str, last: str) -> dict[str, Any]:
    """Give `org_id` the numbers first..last (E.164 or national; the same length, first <= last)."""
    lo, hi = phone_numbers.normalize(first), phone_numbers.normalize(last)
    if len(lo) != len(hi) or lo > hi:
        raise Invalid("first and last must have as many digits, and first must not be above last")
    if int(hi[1:]) - int(lo[1:]) + 1 > MAX_RANGE:
        raise Invalid(f"a range holds at most {MAX_RANGE} numbers")
    async with transaction(db) as conn:
        if await conn.fetchval("SELECT id FROM organizations WHERE id = $1", org_id) is None:
            raise NotFound("organization not found")
        rec = await conn.fetchrow(
            f"INSERT INTO number_ranges (organization_id, first_number, last_number)"  # noqa: S608
            f" VALUES ($1, $2, $3) RETURNING {_COLUMNS}",
            org_id,
            lo,
            hi,
        )
    assert rec is not None
    return dict(rec)


async def delete_range(db: Db, org_id: int, range_id: int) -> None:
    """The numbers already taken from it stay the organization's."""
    status = await db.execute(
        "DELETE FROM number_ranges WHERE id = $2 AND organization_id = $1", org_id, range_id
    )
    if status == "DELETE 0":
        raise NotFound("number range not found")


async def check_claim(conn: Conn, org_id: int, e164: str) -> None:
    """An organization's admin may take `e164` only from the organization's own ranges: Forbidden
    otherwise, the same for a free number and one another organization holds."""
    inside = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM number_ranges r WHERE r.organization_id = $1"
        " AND pbx_range_holds(r, $2))",
        org_id,
        e164,
    )
    if not inside:
        raise Forbidden(NOT_YOURS)
