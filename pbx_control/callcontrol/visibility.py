"""Whose calls a member may see: the one rule behind GET /calls, the call actions and the live
events WebSocket.

A plain user sees the calls of their own devices (the channels on their endpoints) and the other
party of each: a channel is theirs when one of its *parties* (itself, a channel bridged with it,
the channel that dialled it or one it dials) is on one of their endpoints. Operators and admins see
every call of their organization.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.kernel.batch import BatchLookup

SEES_ALL_ROLES = frozenset({"operator", "admin"})

_ASKER = """
SELECT o.slug, u.extension,
       coalesce(array_agg(d.sip_username) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM users u
  JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE u.id = $1 AND u.organization_id = $2
 GROUP BY o.slug, u.extension
"""
_ORG_ENDPOINTS = "SELECT sip_username FROM devices WHERE organization_id = $1"
_ASKERS = """
SELECT u.id, u.organization_id, o.slug, u.extension,
       coalesce(array_agg(d.sip_username) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM users u
  JOIN organizations o ON o.id = u.organization_id
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE u.id = ANY($1::bigint[])
 GROUP BY u.id, u.organization_id, o.slug, u.extension
"""
_ORGS_ENDPOINTS = """
SELECT organization_id, array_agg(sip_username) AS endpoints
  FROM devices WHERE organization_id = ANY($1::bigint[]) GROUP BY organization_id
"""
# The same rule for one endpoint, in one round trip: whether `endpoint` is among the viewer's
# endpoints (their own devices; every device of the organization for operators and admins).
_ASKER_FOR = """
SELECT o.slug, u.extension,
       EXISTS (SELECT 1 FROM devices d
                WHERE d.sip_username = $3
                  AND (d.user_id = u.id OR ($4 AND d.organization_id = u.organization_id))) AS sees
  FROM users u
  JOIN organizations o ON o.id = u.organization_id
 WHERE u.id = $1 AND u.organization_id = $2
"""


@dataclass(frozen=True)
class Viewer:
    slug: str
    extension: str | None
    endpoints: frozenset[str]  # the devices whose calls the viewer may see and act on
    sees_all: bool  # operators and admins: every call of the organization

    @property
    def scope(self) -> frozenset[str] | None:
        """What a live-event feed filters on: None for everything of the organization."""
        return None if self.sees_all else self.endpoints


async def viewer(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: int, org_id: int, role: str
) -> Viewer | None:
    """The member's view of their organization's calls (None: no such user there)."""
    row = await conn.fetchrow(_ASKER, user_id, org_id)
    if row is None:
        return None
    endpoints = set(row["endpoints"])
    sees_all = role in SEES_ALL_ROLES
    if sees_all:
        endpoints |= {r["sip_username"] for r in await conn.fetch(_ORG_ENDPOINTS, org_id)}
    return Viewer(row["slug"], row["extension"], frozenset(endpoints), sees_all)


class ViewerLookups:
    """viewer() for concurrent requests in shared queries (kernel/batch.py: nothing cached; a
    thousand WebSocket clients connecting at once cost a few queries, not two thousand)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        async def askers(keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], asyncpg.Record]:
            rows = await pool.fetch(_ASKERS, sorted({user for user, _ in keys}))
            return {(r["id"], r["organization_id"]): r for r in rows}

        async def orgs(keys: Sequence[int]) -> dict[int, frozenset[str]]:
            rows = await pool.fetch(_ORGS_ENDPOINTS, list(keys))
            return {r["organization_id"]: frozenset(r["endpoints"]) for r in rows}

        self.askers = BatchLookup(askers)
        self.orgs = BatchLookup(orgs)

    async def viewer(self, user_id: int, org_id: int, role: str) -> Viewer | None:
        """As viewer(pool, ...)."""
        row = await self.askers.get((user_id, org_id))
        if row is None:
            return None
        endpoints = frozenset(row["endpoints"])
        sees_all = role in SEES_ALL_ROLES
        if sees_all:
            everyone = await self.orgs.get(org_id) or frozenset()
            # The organization's own set, shared by its operators and admins (their devices are in
            # it): a copy per viewer was 33 KB for each WebSocket of a 1,000-device organization.
            endpoints = everyone if endpoints <= everyone else endpoints | everyone
        return Viewer(row["slug"], row["extension"], endpoints, sees_all)


@dataclass(frozen=True)
class Asker:
    slug: str
    extension: str | None
    sees: bool  # the endpoint asked about is one of the viewer's (Viewer.endpoints)


async def asker(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: int, org_id: int, role: str, endpoint: str | None
) -> Asker | None:
    """The member's organization slug and extension, and whether they may see and act on the calls
    of `endpoint` (None: no endpoint, `sees` False): the rule of `viewer` for one endpoint, without
    reading every device of the organization. None: no such user there."""
    row = await conn.fetchrow(_ASKER_FOR, user_id, org_id, endpoint or "", role in SEES_ALL_ROLES)
    if row is None:
        return None
    return Asker(row["slug"], row["extension"], endpoint is not None and bool(row["sees"]))


def party_endpoints(calls: CallModel | None, channel: Mapping[str, Any] | Channel) -> frozenset[str]:
    """The endpoints of a channel's parties: its own, the channels bridged with it, the channel
    that dialled it and the channels it dials. `channel` may be a Channel or its to_dict() (as published)."""
    own: object
    uniqueid: object
    bridge: object
    dialer: object
    if isinstance(channel, Channel):
        own, uniqueid = channel.endpoint, channel.uniqueid
        bridge, dialer = channel.bridge_id, channel.dialed_by
    else:
        own, uniqueid = channel.get("endpoint"), channel.get("uniqueid")
        bridge, dialer = channel.get("bridge_id"), channel.get("dialed_by")
    found = {own} if isinstance(own, str) and own else set()
    if calls is not None:
        others: list[Channel] = calls.in_bridge(bridge) if isinstance(bridge, str) and bridge else []
        if isinstance(dialer, str) and dialer:
            dialing = calls.get(dialer)
            if dialing is not None:
                others.append(dialing)
        if isinstance(uniqueid, str) and uniqueid:
            others += calls.dialed_from(uniqueid)
        found |= {c.endpoint for c in others if c.endpoint and c.uniqueid != uniqueid}
    return frozenset(found)


def sees(audience: frozenset[str] | None, scope: frozenset[str] | None) -> bool:
    """Whether a viewer with `scope` (None: sees all) sees something whose parties are on
    `audience` (None: concerns the whole organization, e.g. presence and groups)."""
    return audience is None or scope is None or not audience.isdisjoint(scope)


def visible_channels(calls: CallModel, slug: str, scope: frozenset[str] | None) -> list[Channel]:
    """The organization's live channels the viewer sees (the hello snapshot)."""
    return [c for c in calls.by_organization(slug) if sees(party_endpoints(calls, c), scope)]


def endpoints_of(channels: Iterable[Channel]) -> frozenset[str]:
    return frozenset(c.endpoint for c in channels if c.endpoint)
