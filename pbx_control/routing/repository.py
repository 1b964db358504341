"""The facts a routing decision needs, each in one indexed query.

A call to a user reads one row: the user, their devices, current activity, custom settings, the
caller's mark in their caller lists (index caller_lists_lookup), and what a forward through the
trunk needs. Expiry of activities and settings is left to the decision (pbx_control.routing.decision).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from pbx_control.policy.model import DEFAULT as DEFAULT_POLICY
from pbx_control.policy.model import CallPolicy
from pbx_control.policy.model import from_row as policy_from_row
from pbx_control.policy.repository import POLICY_COLUMNS, POLICY_JOIN
from pbx_control.reachability.decision import Activity, Diversions
from pbx_control.routing.decision import Callee, CallerIdMode, Outbound

# Everything about a callee user `u` of organization `o`; $N is the caller's numbers (text[]).
_CALLEE_COLUMNS = """
       o.slug, o.main_number,
       u.id, u.extension, u.name, u.ring_time, u.block_anonymous,
       ARRAY(SELECT d.sip_username FROM devices d WHERE d.user_id = u.id ORDER BY d.id) AS endpoints,
       a.kind AS a_kind, a.until AS a_until, a.destination AS a_destination, a.forward_to AS a_forward_to,
       CASE WHEN a.prompt_name = u.name AND a.prompt_language = u.language THEN a.prompt END AS a_prompt,
       s.closed, s.closed_until, s.forward_all, s.forward_all_until, s.forward_busy,
       s.forward_no_answer, s.forward_no_answer_seconds, s.outgoing_callerid, s.outgoing_callerid_until,
       (SELECT n2.number FROM numbers n2 WHERE n2.user_id = u.id ORDER BY n2.id LIMIT 1) AS user_number,
       (SELECT 'trunk_' || t.name FROM trunks t ORDER BY t.id LIMIT 1) AS trunk,
       (SELECT c.kind FROM caller_lists c
         WHERE c.user_id = u.id AND c.number = ANY({numbers}::text[])
         ORDER BY c.kind = 'blocked' DESC LIMIT 1) AS mark,
       {policy}
"""
_CALLEE_BY_EXTENSION = f"""
SELECT {_CALLEE_COLUMNS.format(numbers="$3", policy=POLICY_COLUMNS)}
  FROM organizations o
  JOIN users u ON u.organization_id = o.id AND u.extension = $2
  LEFT JOIN user_activities a ON a.user_id = u.id AND a.kind <> 'available'
  LEFT JOIN user_settings s ON s.user_id = u.id{POLICY_JOIN}
 WHERE o.slug = $1
"""  # noqa: S608
# The same for a call from device $3 of the organization: the caller is that device's user, who
# may stand in caller lists by extension or by any of their numbers.
_CALLER_NUMBERS_OF_ENDPOINT = """ARRAY(
           SELECT u2.extension FROM devices d2 JOIN users u2 ON u2.id = d2.user_id
            WHERE d2.sip_username = $3 AND d2.organization_id = o.id
           UNION ALL
           SELECT n3.number FROM devices d3 JOIN numbers n3 ON n3.user_id = d3.user_id
            WHERE d3.sip_username = $3 AND d3.organization_id = o.id)"""
_CALLEE_FROM_ENDPOINT = _CALLEE_BY_EXTENSION.replace(
    _CALLEE_COLUMNS.format(numbers="$3", policy=POLICY_COLUMNS),
    _CALLEE_COLUMNS.format(numbers=_CALLER_NUMBERS_OF_ENDPOINT, policy=POLICY_COLUMNS),
)
# A DID: its organization always; its user when it points at one.
_BY_NUMBER = f"""
SELECT {_CALLEE_COLUMNS.format(numbers="$2", policy=POLICY_COLUMNS)}
  FROM numbers n
  JOIN organizations o ON o.id = n.organization_id
  LEFT JOIN users u ON u.id = n.user_id
  LEFT JOIN user_activities a ON a.user_id = u.id AND a.kind <> 'available'
  LEFT JOIN user_settings s ON s.user_id = u.id{POLICY_JOIN}
 WHERE n.number = $1
"""  # noqa: S608
# The calling user behind a device of organization $2.
_CALLER_BY_ENDPOINT = f"""
SELECT u.id, u.extension, o.main_number, {POLICY_COLUMNS},
       ARRAY(SELECT n.number FROM numbers n WHERE n.user_id = u.id ORDER BY n.id) AS numbers,
       (SELECT 'trunk_' || t.name FROM trunks t ORDER BY t.id LIMIT 1) AS trunk,
       s.outgoing_callerid, s.outgoing_callerid_until
  FROM devices d
  JOIN organizations o ON o.id = d.organization_id
  JOIN users u ON u.id = d.user_id
  LEFT JOIN user_settings s ON s.user_id = u.id{POLICY_JOIN}
 WHERE d.sip_username = $1 AND o.slug = $2
"""  # noqa: S608
_OPERATOR_DEVICES = """
SELECT d.sip_username
  FROM organizations o
  JOIN users u ON u.organization_id = o.id AND u.role = 'operator'
  JOIN devices d ON d.user_id = u.id
 WHERE o.slug = $1
 ORDER BY u.extension, d.id
"""


def _callerid_mode(mode: CallerIdMode | None, until: datetime | None, now: datetime) -> CallerIdMode | None:
    # `mode` comes from user_settings.outgoing_callerid, which a CHECK keeps to CallerIdMode's values.
    return mode if mode and (until is None or until > now) else None


def _callee(row: asyncpg.Record, now: datetime) -> Callee:
    activity = None
    if row["a_kind"] is not None:
        activity = Activity(
            row["a_kind"], row["a_until"], row["a_destination"], row["a_forward_to"], row["a_prompt"]
        )
    settings = Diversions()
    if row["closed"] is not None:
        settings = Diversions(
            row["closed"],
            row["closed_until"],
            row["forward_all"],
            row["forward_all_until"],
            row["forward_busy"],
            row["forward_no_answer"],
            row["forward_no_answer_seconds"],
        )
    outbound = Outbound(
        row["trunk"],
        row["user_number"],
        row["main_number"],
        _callerid_mode(row["outgoing_callerid"], row["outgoing_callerid_until"], now),
    )
    return Callee(
        row["id"],
        row["extension"],
        row["name"],
        tuple(row["endpoints"]),
        row["ring_time"],
        row["slug"],
        row["block_anonymous"],
        row["mark"],
        activity,
        settings,
        outbound,
        policy_from_row(row),
    )


class CallerRow:
    """The calling user of a device: extension, numbers, how their calls leave."""

    __slots__ = ("extension", "numbers", "outbound", "policy", "user_id")

    def __init__(
        self,
        user_id: int,
        extension: str,
        numbers: tuple[str, ...],
        outbound: Outbound,
        policy: CallPolicy = DEFAULT_POLICY,
    ) -> None:
        self.user_id = user_id
        self.extension = extension
        self.numbers = numbers
        self.outbound = outbound
        self.policy = policy  # the call policy for what this user dials


class RoutingRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool

    async def callee(
        self,
        organization: str,
        extension: str,
        caller_numbers: Sequence[str],
        now: datetime,
    ) -> Callee | None:
        row = await self._pool.fetchrow(_CALLEE_BY_EXTENSION, organization, extension, list(caller_numbers))
        return _callee(row, now) if row else None

    async def callee_from_device(
        self, organization: str, extension: str, endpoint: str, now: datetime
    ) -> Callee | None:
        """A callee called from one of the organization's devices (the caller is its user)."""
        row = await self._pool.fetchrow(_CALLEE_FROM_ENDPOINT, organization, extension, endpoint)
        return _callee(row, now) if row else None

    async def by_number(
        self, number: str, caller_numbers: Sequence[str], now: datetime
    ) -> tuple[str | None, Callee | None]:
        row = await self._pool.fetchrow(_BY_NUMBER, number, list(caller_numbers))
        if row is None:
            return None, None
        return row["slug"], (_callee(row, now) if row["id"] is not None else None)

    async def caller(self, organization: str, endpoint: str, now: datetime) -> CallerRow | None:
        row = await self._pool.fetchrow(_CALLER_BY_ENDPOINT, endpoint, organization)
        if row is None:
            return None
        mode = _callerid_mode(row["outgoing_callerid"], row["outgoing_callerid_until"], now)
        numbers = tuple(row["numbers"])
        outbound = Outbound(row["trunk"], numbers[0] if numbers else None, row["main_number"], mode)
        return CallerRow(row["id"], row["extension"], numbers, outbound, policy_from_row(row))

    async def operator_endpoints(self, organization: str) -> tuple[str, ...]:
        return tuple(r["sip_username"] for r in await self._pool.fetch(_OPERATOR_DEVICES, organization))
