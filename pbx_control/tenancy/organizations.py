"""Organizations (tenants). The slug is immutable: it names the dialplan context (org-<slug>),
the accountcode and the generated SIP usernames."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from pbx_control.kernel.db import Db, rows, transaction, translate_errors
from pbx_control.kernel.errors import Invalid, NotFound
from pbx_control.tenancy import phone_numbers
from pbx_control.tenancy import validation as v

_COLUMNS = "id, slug, name, main_number, timezone, working_hours, created_at"
_SELECT = "SELECT id, slug, name, main_number, timezone, working_hours, created_at FROM organizations"
_INSERT = (
    "INSERT INTO organizations (slug, name, main_number, timezone) VALUES ($1, $2, $3, $4)"
    " RETURNING id, slug, name, main_number, timezone, working_hours, created_at"
)
_UPDATABLE = ("name", "main_number", "timezone", "working_hours")


def _decode(record: dict[str, Any]) -> dict[str, Any]:
    if isinstance(record.get("working_hours"), str):
        record["working_hours"] = json.loads(record["working_hours"])
    return record


def _main_number(value: object) -> str | None:
    if value is None or value == "":
        return None
    return phone_numbers.normalize(value)


async def create_organization(
    db: Db,
    slug: str,
    name: str,
    main_number: str | None = None,
    timezone: str = "Europe/Stockholm",
) -> dict[str, Any]:
    """Create an organization; `main_number` is normalized to E.164 (Swedish national accepted)."""
    params = (v.slug(slug), v.name(name), _main_number(main_number), v.timezone(timezone))
    with translate_errors():
        rec = await db.fetchrow(
            _INSERT,
            *params,
        )
    assert rec is not None  # RETURNING gives the row back
    return _decode(dict(rec))


async def list_organizations(db: Db) -> list[dict[str, Any]]:
    recs = await db.fetch(f"{_SELECT} ORDER BY id")
    return [_decode(r) for r in rows(recs)]


async def get_organization(db: Db, org_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(f"{_SELECT} WHERE id = $1", org_id)
    if rec is None:
        raise NotFound("organization not found")
    return _decode(dict(rec))


async def update_organization(db: Db, org_id: int, **fields: object) -> dict[str, Any]:
    """Change any of name, main_number (None clears it), timezone, working_hours."""
    unknown = set(fields) - set(_UPDATABLE)
    if unknown:
        raise Invalid(f"cannot update {', '.join(sorted(unknown))}")
    if not fields:
        raise Invalid("nothing to update")
    checks: dict[str, Callable[[object], object]] = {
        "name": v.name,
        "main_number": _main_number,
        "timezone": v.timezone,
        "working_hours": lambda wh: json.dumps(v.working_hours(wh)),
    }
    values = {k: checks[k](fields[k]) for k in _UPDATABLE if k in fields}
    sets = ", ".join(
        f"{col} = ${i}" + ("::jsonb" if col == "working_hours" else "")
        for i, col in enumerate(values, start=2)
    )
    async with transaction(db) as conn:
        rec = await conn.fetchrow(
            f"UPDATE organizations SET {sets} WHERE id = $1 RETURNING {_COLUMNS}",  # noqa: S608
            org_id,
            *values.values(),
        )
    if rec is None:
        raise NotFound("organization not found")
    return _decode(dict(rec))


async def delete_organization(db: Db, org_id: int) -> None:
    """Delete an organization and, by cascade, its users, devices, numbers and tokens."""
    status = await db.execute("DELETE FROM organizations WHERE id = $1", org_id)
    if status == "DELETE 0":
        raise NotFound("organization not found")
