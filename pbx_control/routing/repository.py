"""The facts a routing decision needs, each in one indexed query."""

from __future__ import annotations

import asyncpg

from pbx_control.routing.decision import Callee, Outbound

_CALLEE_BY_EXTENSION = """
SELECT u.id, u.extension, u.name, u.ring_time,
       coalesce(array_agg(d.sip_username ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM organizations o
  JOIN users u ON u.organization_id = o.id AND u.extension = $2
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE o.slug = $1
 GROUP BY u.id
"""

_OUTBOUND_FOR_ENDPOINT = """
SELECT o.main_number,
       (SELECT n.number FROM numbers n WHERE n.user_id = d.user_id ORDER BY n.id LIMIT 1) AS user_number,
       (SELECT 'trunk_' || t.name FROM trunks t ORDER BY t.id LIMIT 1) AS trunk
  FROM devices d
  JOIN organizations o ON o.id = d.organization_id
 WHERE d.sip_username = $1 AND o.slug = $2
"""

_BY_NUMBER = """
SELECT o.slug, u.id, u.extension, u.name, u.ring_time,
       coalesce(array_agg(d.sip_username ORDER BY d.id) FILTER (WHERE d.id IS NOT NULL), '{}') AS endpoints
  FROM numbers n
  JOIN organizations o ON o.id = n.organization_id
  LEFT JOIN users u ON u.id = n.user_id
  LEFT JOIN devices d ON d.user_id = u.id
 WHERE n.number = $1
 GROUP BY o.slug, u.id
"""


def _callee(row: asyncpg.Record) -> Callee:
    return Callee(row["id"], row["extension"], row["name"], tuple(row["endpoints"]), row["ring_time"])


class RoutingRepository:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def callee(self, organization: str, extension: str) -> Callee | None:
        row = await self._pool.fetchrow(_CALLEE_BY_EXTENSION, organization, extension)
        return _callee(row) if row else None

    async def outbound(self, organization: str, endpoint: str) -> Outbound | None:
        row = await self._pool.fetchrow(_OUTBOUND_FOR_ENDPOINT, endpoint, organization)
        if row is None:
            return None
        return Outbound(row["trunk"], row["user_number"], row["main_number"])

    async def by_number(self, number: str) -> tuple[str | None, Callee | None]:
        row = await self._pool.fetchrow(_BY_NUMBER, number)
        if row is None:
            return None, None
        return row["slug"], (_callee(row) if row["id"] is not None else None)
