"""Answer groups of an organization: create, change, delete (admins), and the view everyone gets
(who is logged in, and the asker's state: green, grey or padlock)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from pydantic import BaseModel

from pbx_control.groups.decision import is_night
from pbx_control.groups.model import (
    Destination,
    Holiday,
    OpenHours,
    Strategy,
    check_schedule,
    check_timezone,
    destination_from_row,
    holidays_from_row,
    schedule_from_row,
)
from pbx_control.groups.repository import _json
from pbx_control.kernel.db import Conn, Db, transaction
from pbx_control.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from pbx_control.policy.checks import check_destination
from pbx_control.tenancy import number_ranges, phone_numbers

_SELECT = """
SELECT g.id, g.extension, g.name, g.strategy, g.ring_time, g.max_wait, g.overflow, g.night_destination,
       g.night_manual, g.schedule, g.holidays, g.timezone, coalesce(g.timezone, o.timezone) AS effective_tz,
       (SELECT n.number FROM numbers n WHERE n.group_id = g.id ORDER BY n.id LIMIT 1) AS number
  FROM answer_groups g JOIN organizations o ON o.id = g.organization_id
 WHERE g.organization_id = $1
"""
_MEMBERS = """
SELECT m.group_id, m.user_id, u.name, u.extension, m.position, m.group_admin, m.logged_in, m.paused,
       m.pause_reason, a.kind AS activity
  FROM answer_group_members m
  JOIN users u ON u.id = m.user_id
  LEFT JOIN user_activities a
         ON a.user_id = m.user_id AND a.kind <> 'available' AND (a.until IS NULL OR a.until > $2)
 WHERE m.group_id = ANY($1::bigint[])
 ORDER BY m.group_id, m.position
"""


def _view(row: asyncpg.Record, members: list[asyncpg.Record], asker_id: int, now: datetime) -> dict[str, Any]:
    schedule = schedule_from_row(_json(row["schedule"]))
    holidays = holidays_from_row(_json(row["holidays"]))
    night = is_night(row["night_manual"], tuple(schedule), tuple(holidays), row["effective_tz"], now)
    mine = next((m for m in members if m["user_id"] == asker_id), None)
    state = "padlock" if night else ("green" if mine and mine["logged_in"] else "grey")
    return {
        "id": row["id"],
        "extension": row["extension"],
        "name": row["name"],
        "number": row["number"],
        "strategy": row["strategy"],
        "ring_time": row["ring_time"],
        "max_wait": row["max_wait"],
        "overflow": destination_from_row(_json(row["overflow"])),
        "night_destination": destination_from_row(_json(row["night_destination"])),
        "night_manual": row["night_manual"],
        "night": night,
        "schedule": schedule,
        "holidays": holidays,
        "timezone": row["timezone"],
        "state": state,
        "may_answer": mine is not None,
        "members": [
            {
                "user_id": m["user_id"],
                "name": m["name"],
                "extension": m["extension"],
                "position": m["position"],
                "group_admin": m["group_admin"],
                "logged_in": m["logged_in"],
                "paused": m["logged_in"] and (m["paused"] or m["activity"] is not None),
                "pause_reason": m["pause_reason"] if m["paused"] else (m["activity"] or ""),
            }
            for m in members
        ],
    }


async def list_groups(
    db: Db, org_id: int, asker_id: int, now: datetime, group_id: int | None = None
) -> list[dict[str, Any]]:
    """now: for night mode by schedule and holidays, and which members' activities are on."""
    sql = _SELECT + (" AND g.id = $2" if group_id is not None else "") + " ORDER BY g.extension"
    groups = await db.fetch(sql, org_id, *([group_id] if group_id is not None else []))
    members = await db.fetch(_MEMBERS, [g["id"] for g in groups], now)
    return [_view(g, [m for m in members if m["group_id"] == g["id"]], asker_id, now) for g in groups]


async def get_group(db: Db, org_id: int, asker_id: int, group_id: int, now: datetime) -> dict[str, Any]:
    found = await list_groups(db, org_id, asker_id, now, group_id)
    if not found:
        raise NotFound("group not found")
    return found[0]


def _dump(value: BaseModel | list[BaseModel] | None) -> str:
    if isinstance(value, list):
        return json.dumps([v.model_dump(mode="json") for v in value])
    return json.dumps(value.model_dump(mode="json") if value is not None else None)


async def _check_destination(
    conn: Conn, org_id: int, group_id: int | None, dest: Destination | None, field: str
) -> None:
    if dest is None:
        return
    if dest.number is not None:  # external, answering_service: the organization's call policy
        await check_destination(conn, org_id, None, "overflow", dest.number, field)
    if dest.user_id is not None and not await conn.fetchval(
        "SELECT 1 FROM users WHERE id = $1 AND organization_id = $2", dest.user_id, org_id
    ):
        raise Invalid("destination: user not found in this organization")
    if dest.group_id is not None:
        if dest.group_id == group_id:
            raise Invalid("destination: a group cannot overflow to itself")
        if not await conn.fetchval(
            "SELECT 1 FROM answer_groups WHERE id = $1 AND organization_id = $2", dest.group_id, org_id
        ):
            raise Invalid("destination: group not found in this organization")


class Member(Protocol):
    """Who may answer (the HTTP layer's MemberIn), in the order they ring."""

    @property
    def user_id(self) -> int: ...
    @property
    def group_admin(self) -> bool: ...


async def _set_members(conn: Conn, org_id: int, group_id: int, members: Sequence[Member]) -> None:
    """Replace who may answer; those kept keep their login and pause."""
    ids = [m.user_id for m in members]
    if len(set(ids)) != len(ids):
        raise Invalid("members: a user is listed twice")
    found = await conn.fetchval(
        "SELECT count(*) FROM users WHERE id = ANY($1::bigint[]) AND organization_id = $2", ids, org_id
    )
    if found != len(ids):
        raise Invalid("members: user not found in this organization")
    await conn.execute(
        "DELETE FROM answer_group_members WHERE group_id = $1 AND NOT user_id = ANY($2::bigint[])",
        group_id,
        ids,
    )
    for position, m in enumerate(members, start=1):
        await conn.execute(
            "INSERT INTO answer_group_members (group_id, user_id, position, group_admin)"
            " VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (group_id, user_id) DO UPDATE SET position = $3, group_admin = $4",
            group_id,
            m.user_id,
            position,
            m.group_admin,
        )


async def _set_number(conn: Conn, org_id: int, group_id: int, number: str | None) -> None:
    await conn.execute("UPDATE numbers SET group_id = NULL WHERE group_id = $1", group_id)
    if number is None:
        return
    e164 = phone_numbers.normalize(number)
    owner = await conn.fetchval("SELECT organization_id FROM numbers WHERE number = $1", e164)
    if owner != org_id:
        # Not the organization's yet: only from its ranges, refused alike whoever holds it.
        await number_ranges.check_claim(conn, org_id, e164)
        if owner is not None:
            raise Forbidden(number_ranges.NOT_YOURS)
        await conn.execute(
            "INSERT INTO numbers (number, organization_id, group_id) VALUES ($1, $2, $3)",
            e164,
            org_id,
            group_id,
        )
    else:
        await conn.execute("UPDATE numbers SET group_id = $2 WHERE number = $1", e164, group_id)


# Column updates, one fixed statement each (no SQL is built from input).
_UPDATES = {
    key: f"UPDATE answer_groups SET {key} = $2 WHERE id = $1"  # noqa: S608 (fixed column names)
    for key in ("name", "strategy", "ring_time", "max_wait", "night_manual", "timezone")
} | {
    key: f"UPDATE answer_groups SET {key} = $2::jsonb WHERE id = $1"  # noqa: S608
    for key in ("overflow", "night_destination", "schedule", "holidays")
}
_JSON = frozenset({"overflow", "night_destination", "schedule", "holidays"})


async def save_group(db: Db, org_id: int, group_id: int | None, changes: dict[str, Any]) -> int:
    """Create (group_id None) or change a group from validated fields; all or nothing."""
    if "schedule" in changes:
        check_schedule(list(changes["schedule"]))
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    async with transaction(db) as conn:
        if group_id is None:
            group_id = await conn.fetchval(
                "INSERT INTO answer_groups (organization_id, extension, name)"
                " VALUES ($1, $2, $3) RETURNING id",
                org_id,
                changes["extension"],
                changes["name"],
            )
        else:
            old = await conn.fetchrow(
                "SELECT strategy FROM answer_groups WHERE id = $1 AND organization_id = $2 FOR UPDATE",
                group_id,
                org_id,
            )
            if old is None:
                raise NotFound("group not found")
            if "extension" in changes:
                await conn.execute(
                    "UPDATE answer_groups SET extension = $2 WHERE id = $1", group_id, changes["extension"]
                )
        if "extension" in changes and await conn.fetchval(
            "SELECT 1 FROM users WHERE organization_id = $1 AND extension = $2", org_id, changes["extension"]
        ):
            raise Conflict("extension is already taken in this organization")
        for key in ("overflow", "night_destination"):
            if key in changes:
                await _check_destination(conn, org_id, group_id, changes[key], key)
        for key, sql in _UPDATES.items():
            if key in changes:
                await conn.execute(sql, group_id, _dump(changes[key]) if key in _JSON else changes[key])
        if "members" in changes:
            await _set_members(conn, org_id, group_id, changes["members"])
        if "number" in changes:
            await _set_number(conn, org_id, group_id, changes["number"])
        if "strategy" in changes or "members" in changes:
            # app_queue keeps a queue's strategy and an in-order ring order once built: a new
            # generation (queue name) takes effect for the next call.
            await conn.execute("UPDATE answer_groups SET generation = generation + 1 WHERE id = $1", group_id)
        return group_id


async def delete_group(db: Db, org_id: int, group_id: int) -> None:
    async with transaction(db) as conn:
        deleted = await conn.fetchval(
            "DELETE FROM answer_groups WHERE id = $1 AND organization_id = $2 RETURNING id", group_id, org_id
        )
        if deleted is None:
            raise NotFound("group not found")


__all__ = ["Holiday", "OpenHours", "Strategy", "delete_group", "get_group", "list_groups", "save_group"]
