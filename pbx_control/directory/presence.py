"""Presence of an organization's users: current activity (pbx_control/sql/003, read only here), until,
note, and whether each user is on a call, from the live CallModel (pbx_control.ami.calls).

One query reads the organization's users, their activity and their devices' SIP usernames (the
API keeps it in memory: presence_cache). The call state is joined in memory from the CallModel's
live channels, and an activity whose end time has passed counts as available (nothing has to run
when it ends). Without AMI in this process the call state is "unknown".

Call state per user, over all their devices' channels:
  idle     no channel
  ringing  only incoming ringing (channel state Ringing)
  on_call  any other channel: talking, on hold, or dialling out
  unknown  no live call model here
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from pbx_control.ami.calls import Channel
from pbx_control.kernel.db import Db

_SQL = """
SELECT u.id, u.extension, u.name, ua.kind, ca.label, ua.until, ua.note,
       coalesce((SELECT array_agg(d.sip_username) FROM devices d WHERE d.user_id = u.id), '{}') AS endpoints
  FROM users u
  LEFT JOIN user_activities ua ON ua.user_id = u.id
  LEFT JOIN custom_activities ca ON ca.id = ua.custom_activity_id
 WHERE u.organization_id = $1 {only}
 ORDER BY u.name COLLATE directory_sort, u.id
"""
ALL_USERS = _ALL = _SQL.replace("{only}", "")
_SOME = _SQL.replace("{only}", "AND u.id = ANY($2::bigint[])")


class Calls(Protocol):
    def channels(self) -> list[Channel]: ...


def busy_endpoints(calls: Calls | None) -> dict[str, list[str]] | None:
    """Endpoint -> states of its live channels (only endpoints with a channel); None without AMI,
    or while the live model is not current (Asterisk or AMI away)."""
    if calls is None or not getattr(calls, "current", True):
        return None
    busy: dict[str, list[str]] = {}
    for channel in calls.channels():
        if channel.endpoint:
            busy.setdefault(channel.endpoint, []).append(channel.state)
    return busy


def call_state(busy: dict[str, list[str]] | None, endpoints: Sequence[str]) -> str:
    if busy is None:
        return "unknown"
    if not busy:
        return "idle"
    states = [s for ep in endpoints for s in busy.get(ep, ())]
    if not states:
        return "idle"
    if all(s == "Ringing" for s in states):
        return "ringing"
    return "on_call"


def presence_entry(row: asyncpg.Record | dict[str, Any], state: str, now: datetime) -> dict[str, Any]:
    """One user's presence (pure: the row, their call state and the time)."""
    kind = row["kind"] or "available"
    until = row["until"]
    if kind != "available" and until is not None and until <= now:
        kind = "available"
    if kind == "available":
        until = None
    return {
        "user_id": row["id"],
        "extension": row["extension"],
        "name": row["name"],
        "activity": kind,
        "label": row["label"] if kind == "custom" else None,
        "until": until,
        "note": row["note"] or "",
        "call": state,
        "on_call": None if state == "unknown" else state == "on_call",
    }


async def presence(
    db: Db,
    org_id: int,
    calls: Calls | None,
    user_ids: list[int] | None = None,
    *,
    now: datetime,
) -> list[dict[str, Any]]:
    """Every user of the organization (or those of user_ids), alphabetically; uncached."""
    if user_ids is None:
        rows = await db.fetch(_ALL, org_id)
    else:
        rows = await db.fetch(_SOME, org_id, user_ids)
    busy = busy_endpoints(calls)
    return [presence_entry(r, call_state(busy, r["endpoints"]), now) for r in rows]
