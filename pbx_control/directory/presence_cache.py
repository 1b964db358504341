"""GET /presence at request rates: the organization's presence rows in memory, and the rendered
response kept while nothing it shows can have changed.

The rows are read again only when the organization's presence_versions row has moved (triggers in
pbx_control/sql/005 bump it on every change of users, devices and activities), so an unchanged organization
costs one primary-key lookup per request; concurrent requests share that lookup (a request may so
see a change up to one lookup's round trip late). A rendered body is reused while the version, the
live call states of the organization's devices and the user filter are the same, and until the
next activity end time passes (an expired activity turns into available without any write).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg

from pbx_control.directory.presence import (
    ALL_USERS,
    Calls,
    busy_endpoints,
    call_state,
    presence_entry,
)
from pbx_control.kernel.db import Db

MAX_RENDERED = 256  # rendered bodies kept per organization (distinct user filters and call states)
_FOREVER = datetime.max.replace(tzinfo=UTC)


@dataclass
class _Snapshot:
    version: int
    rows: list[asyncpg.Record]
    endpoints: frozenset[str]
    rendered: dict[tuple[Any, ...], tuple[datetime, bytes]] = field(default_factory=dict)


class PresenceCache:
    def __init__(self, render: Callable[[list[dict[str, Any]]], bytes]) -> None:
        """render: the entries (as presence_entry makes them) -> the response body."""
        self._render = render
        self._orgs: dict[int, _Snapshot] = {}
        self._checks: dict[int, asyncio.Future[int | None]] = {}

    async def _version(self, db: Db, org_id: int) -> int:
        pending = self._checks.get(org_id)
        if pending is None:
            pending = asyncio.ensure_future(
                db.fetchval("SELECT version FROM presence_versions WHERE organization_id = $1", org_id)
            )
            self._checks[org_id] = pending

            def forget(done: asyncio.Future[int | None]) -> None:
                if self._checks.get(org_id) is done:
                    del self._checks[org_id]

            pending.add_done_callback(forget)
        return (await asyncio.shield(pending)) or 0

    async def _snapshot(self, db: Db, org_id: int) -> _Snapshot:
        version = await self._version(db, org_id)
        snap = self._orgs.get(org_id)
        if snap is None or snap.version != version:
            rows = await db.fetch(ALL_USERS, org_id)
            endpoints = frozenset(ep for r in rows for ep in r["endpoints"])
            snap = self._orgs[org_id] = _Snapshot(version, rows, endpoints)
        return snap

    async def body(
        self,
        db: Db,
        org_id: int,
        calls: Calls | None,
        user_ids: list[int] | None = None,
        *,
        now: datetime,
    ) -> bytes:
        """The rendered presence of the organization's users (or of user_ids), alphabetically."""
        snap = await self._snapshot(db, org_id)
        busy = busy_endpoints(calls)
        states = (
            None
            if busy is None
            else tuple(sorted((ep, tuple(st)) for ep, st in busy.items() if ep in snap.endpoints))
        )
        key = (states, None if user_ids is None else tuple(sorted(set(user_ids))))
        hit = snap.rendered.get(key)
        if hit is not None and now < hit[0]:
            return hit[1]
        wanted = None if user_ids is None else set(user_ids)
        rows = [r for r in snap.rows if wanted is None or r["id"] in wanted]
        body = self._render([presence_entry(r, call_state(busy, r["endpoints"]), now) for r in rows])
        valid_until = min(
            (r["until"] for r in rows if r["until"] is not None and r["until"] > now), default=_FOREVER
        )
        if len(snap.rendered) >= MAX_RENDERED:
            snap.rendered.clear()
        snap.rendered[key] = (valid_until, body)
        return body
