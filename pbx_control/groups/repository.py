"""The facts a call to an answer group needs, read on the FastAGI path (indexed lookups only).

The stored schedule, holidays and destinations were validated when they were saved
(groups/model.py); here they are read back as plain values, checked only so that a malformed one is
taken as none (the call path does not import pydantic: the FastAGI process stays small).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from pbx_control.groups.decision import (
    DAYS,
    DESTINATION_KINDS,
    HHMM,
    DestinationKind,
    GroupFacts,
    Target,
    minutes,
)
from pbx_control.policy.model import CallPolicy, refusal
from pbx_control.policy.model import from_row as policy_from_row
from pbx_control.policy.repository import ORG_POLICY_COLUMNS, ORG_POLICY_JOIN

_GROUP_COLUMNS = f"""
SELECT g.id, g.extension, g.queue_name, g.max_wait, g.night_manual, g.schedule, g.holidays,
       coalesce(g.timezone, o.timezone) AS timezone, g.overflow, g.night_destination,
       o.slug, o.id AS organization_id, coalesce(o.main_number, '') AS main_number,
       (SELECT count(*) FROM answer_group_members m
         WHERE m.group_id = g.id AND m.logged_in
           AND EXISTS (SELECT 1 FROM devices d WHERE d.user_id = m.user_id)) AS logged_in,
       {ORG_POLICY_COLUMNS}
  FROM answer_groups g
  JOIN organizations o ON o.id = g.organization_id{ORG_POLICY_JOIN}
"""  # noqa: S608 (fixed fragments)
_BY_EXTENSION = _GROUP_COLUMNS + " WHERE o.slug = $1 AND g.extension = $2"
_BY_NUMBER = _GROUP_COLUMNS + " JOIN numbers n ON n.group_id = g.id WHERE o.slug = $1 AND n.number = $2"

_USER_TARGET = """
SELECT u.extension, u.ring_time,
       coalesce(array_agg(d.sip_username ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM users u
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE u.id = $2 AND u.organization_id = $1
 GROUP BY u.id
"""
_GROUP_EXTENSION = "SELECT extension FROM answer_groups WHERE id = $2 AND organization_id = $1"
_TRUNK = "SELECT 'trunk_' || name FROM trunks ORDER BY id LIMIT 1"


def _json(value: object) -> Any:
    """A jsonb column's value, decoded (json.loads: any JSON value) when it came as text."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class OpenTime:
    day: str
    open: str
    close: str


@dataclass(frozen=True)
class Holiday:
    date: date


@dataclass(frozen=True)
class Destination:
    kind: DestinationKind
    user_id: int | None = None
    group_id: int | None = None
    number: str | None = None


def _open_time(value: Any) -> OpenTime:
    found = OpenTime(str(value["day"]), str(value["open"]), str(value["close"]))
    times = HHMM.match(found.open) and HHMM.match(found.close)  # the rules of groups/model.OpenHours
    if found.day not in DAYS or not times or minutes(found.open) >= minutes(found.close):
        raise ValueError(f"not an open interval: {value!r}")
    return found


def _schedule(value: object) -> tuple[OpenTime, ...]:
    try:
        return tuple(_open_time(v) for v in _json(value) or [])
    except (TypeError, KeyError, ValueError):
        return ()


def _holidays(value: object) -> tuple[Holiday, ...]:
    try:
        return tuple(Holiday(date.fromisoformat(str(v["date"]))) for v in _json(value) or [])
    except (TypeError, KeyError, ValueError):
        return ()


def _destination(value: object) -> Destination | None:
    """A stored destination: its kind and the one id or number that kind takes."""
    if not isinstance(value, dict) or value.get("kind") not in DESTINATION_KINDS:
        return None
    kind: DestinationKind = value["kind"]
    if kind in ("user", "voicemail", "group"):
        key = "group_id" if kind == "group" else "user_id"
        ref = value.get(key)
        ok = isinstance(ref, int) and not isinstance(ref, bool) and ref >= 1
        return Destination(kind, **{key: ref}) if ok else None
    number = value.get("number")
    return Destination(kind, number=number) if isinstance(number, str) and number else None


class GroupRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def by_extension(self, organization: str, extension: str) -> GroupFacts | None:
        row = await self._pool.fetchrow(_BY_EXTENSION, organization, extension)
        return await self._facts(row) if row else None

    async def by_number(self, organization: str, number: str) -> GroupFacts | None:
        row = await self._pool.fetchrow(_BY_NUMBER, organization, number)
        return await self._facts(row) if row else None

    async def _facts(self, row: asyncpg.Record) -> GroupFacts:
        org_id = row["organization_id"]
        policy = policy_from_row(row)
        return GroupFacts(
            id=row["id"],
            extension=row["extension"],
            organization=row["slug"],
            queue_name=row["queue_name"],
            max_wait=row["max_wait"],
            logged_in=row["logged_in"],
            night_manual=row["night_manual"],
            schedule=_schedule(row["schedule"]),
            holidays=_holidays(row["holidays"]),
            timezone=row["timezone"],
            overflow=await self._target(org_id, _destination(_json(row["overflow"])), policy),
            night=await self._target(org_id, _destination(_json(row["night_destination"])), policy),
            callerid_num=row["main_number"],
        )

    async def _target(self, org_id: int, dest: Destination | None, policy: CallPolicy) -> Target | None:
        """A stored destination resolved now; None when it no longer exists, or is a number the
        organization's call policy does not (or no longer) allow as overflow."""
        if dest is None:
            return None
        if dest.kind in ("user", "voicemail"):
            row = await self._pool.fetchrow(_USER_TARGET, org_id, dest.user_id)
            if row is None:
                return None
            return Target(dest.kind, row["extension"], tuple(row["endpoints"]), row["ring_time"])
        if dest.kind == "group":
            ext = await self._pool.fetchval(_GROUP_EXTENSION, org_id, dest.group_id)
            return Target("group", ext) if ext else None
        if refusal(policy, "overflow", dest.number or "") is not None:
            return None
        trunk = await self._pool.fetchval(_TRUNK)
        return Target(dest.kind, number=dest.number or "", trunk=trunk)
