"""Meetings in PostgreSQL. Every query names the organization, so another organization's meeting
is never found (the API answers 404)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from pbx_control.kernel.db import Conn
from pbx_control.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from pbx_control.meetings.pins import new_pin

_GET = (
    "SELECT id, organization_id, owner_user_id, name, starts_at, ends_at, pin, host_pin, created_at"
    " FROM meetings WHERE id = $1 AND organization_id = $2 AND deleted_at IS NULL"
)
_GET_FOR_UPDATE = _GET + " FOR UPDATE"


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    for label, at in (("starts_at", starts_at), ("ends_at", ends_at)):
        if at is not None and at.tzinfo is None:
            raise Invalid(f"{label} must carry a time zone (e.g. 2026-12-03T10:00:00+01:00)")
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at")


async def _free_pins(conn: Conn, org_id: int, count: int) -> list[str]:
    """`count` PINs no meeting of the organization uses (deleted ones included), under the
    organization's lock so that two meetings made at once cannot take the same one."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('pbx-meeting-pin:' || $1::bigint::text, 0))", org_id
    )
    used = {
        r["p"]
        for r in await conn.fetch(
            "SELECT pin AS p FROM meetings WHERE organization_id = $1"
            " UNION SELECT host_pin FROM meetings WHERE organization_id = $1",
            org_id,
        )
    }
    pins: list[str] = []
    while len(pins) < count:
        pin = new_pin()
        if pin not in used and pin not in pins:
            pins.append(pin)
    return pins


async def create(
    conn: Conn, org_id: int, owner_id: int, name: str, starts_at: datetime | None, ends_at: datetime | None
) -> dict[str, Any]:
    _check_times(starts_at, ends_at)
    pin, host_pin = await _free_pins(conn, org_id, 2)
    row = await conn.fetchrow(
        """INSERT INTO meetings (organization_id, owner_user_id, name, starts_at, ends_at, pin, host_pin)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id, organization_id, owner_user_id, name, starts_at, ends_at, pin, host_pin,
                      created_at""",
        org_id,
        owner_id,
        name,
        starts_at,
        ends_at,
        pin,
        host_pin,
    )
    assert row is not None
    return dict(row)


async def get(conn: Conn, org_id: int, meeting_id: int, *, for_update: bool = False) -> dict[str, Any]:
    row = await conn.fetchrow(
        _GET_FOR_UPDATE if for_update else _GET,
        meeting_id,
        org_id,
    )
    if row is None:
        raise NotFound("no such meeting")
    return dict(row)


async def list_for(conn: Conn, org_id: int, owner_id: int | None) -> list[dict[str, Any]]:
    """The organization's meetings (`owner_id`: only that user's), newest first."""
    rows = await conn.fetch(
        """SELECT id, organization_id, owner_user_id, name, starts_at, ends_at, pin, host_pin, created_at
            FROM meetings
            WHERE organization_id = $1 AND deleted_at IS NULL AND ($2::bigint IS NULL OR owner_user_id = $2)
            ORDER BY id DESC LIMIT 500""",
        org_id,
        owner_id,
    )
    return [dict(r) for r in rows]


def may_change(meeting: dict[str, Any], user_id: int, is_admin: bool) -> None:
    if not is_admin and meeting["owner_user_id"] != user_id:
        raise Forbidden("only the meeting's owner or an admin may change it")


async def update(
    conn: Conn, org_id: int, meeting_id: int, user_id: int, is_admin: bool, changes: dict[str, Any]
) -> dict[str, Any]:
    meeting = await get(conn, org_id, meeting_id, for_update=True)
    may_change(meeting, user_id, is_admin)
    merged = {**meeting, **changes}
    _check_times(merged["starts_at"], merged["ends_at"])
    if changes.pop("new_pins", False):
        merged["pin"], merged["host_pin"] = await _free_pins(conn, org_id, 2)
    row = await conn.fetchrow(
        """UPDATE meetings SET name = $3, starts_at = $4, ends_at = $5, pin = $6, host_pin = $7
            WHERE id = $1 AND organization_id = $2
            RETURNING id, organization_id, owner_user_id, name, starts_at, ends_at, pin, host_pin,
                      created_at""",
        meeting_id,
        org_id,
        merged["name"],
        merged["starts_at"],
        merged["ends_at"],
        merged["pin"],
        merged["host_pin"],
    )
    assert row is not None
    return dict(row)


async def delete(
    conn: Conn, org_id: int, meeting_id: int, user_id: int, is_admin: bool, now: datetime
) -> None:
    meeting = await get(conn, org_id, meeting_id, for_update=True)
    may_change(meeting, user_id, is_admin)
    await conn.execute("UPDATE meetings SET deleted_at = $2 WHERE id = $1", meeting_id, now)


async def invitation_facts(conn: Conn, org_id: int) -> asyncpg.Record:
    """The organization's name, time zone and outside dial-in number (or NULL)."""
    row = await conn.fetchrow(
        """SELECT o.name, o.timezone, n.number AS outside_number
           FROM organizations o
           LEFT JOIN meeting_dial_in d ON d.organization_id = o.id
           LEFT JOIN numbers n ON n.id = d.number_id AND n.organization_id = o.id
           WHERE o.id = $1""",
        org_id,
    )
    assert row is not None
    return row


async def set_dial_in(conn: Conn, org_id: int, number: str | None) -> str | None:
    """Make one of the organization's numbers its outside dial-in (None: no outside dial-in)."""
    if number is None:
        await conn.execute("DELETE FROM meeting_dial_in WHERE organization_id = $1", org_id)
        return None
    found = await conn.fetchrow(
        "SELECT id, user_id IS NULL AND group_id IS NULL AS free FROM numbers"
        " WHERE number = $1 AND organization_id = $2",
        number,
        org_id,
    )
    if found is None:
        raise NotFound("the organization has no such number")
    if not found["free"]:
        raise Conflict("the number rings a user or an answer group; free it first")
    number_id = found["id"]
    await conn.execute(
        """INSERT INTO meeting_dial_in (organization_id, number_id) VALUES ($1, $2)
           ON CONFLICT (organization_id) DO UPDATE SET number_id = EXCLUDED.number_id""",
        org_id,
        number_id,
    )
    return number
