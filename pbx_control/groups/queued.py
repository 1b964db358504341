"""Callers waiting in the organization's answer groups now, as app_queue reports them (AMI
QueueStatus: one QueueEntry per waiting caller), for the operator view. Operators and admins see
every group's; a user the groups they may answer. Only the queues that have callers are asked
(waiting.py: never every queue), and one answer serves every request of the next `CACHE_S` (an
operator view reads the list again on every call event), unless a caller joined or left a queue
meanwhile: app_queue's QueueCallerJoin, QueueCallerLeave and QueueCallerAbandon events are
published as `queue.changed` for the caller's organization (no details: the app reads
GET /calls/queued again)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from pbx_control.ami import AmiClient, AmiUnavailable, CallModel, EventPublisher
from pbx_control.groups import waiting
from pbx_control.groups.waiting import OUR_QUEUE, QUEUE_EVENTS, WaitingQueues

CACHE_S = 0.5
_UNKNOWN = "<unknown>"

_GROUPS = """
SELECT g.id, g.name, g.extension FROM answer_groups g
WHERE g.organization_id = $1 AND g.id = ANY($2::bigint[])
  AND ($3 OR EXISTS (SELECT 1 FROM answer_group_members m WHERE m.group_id = g.id AND m.user_id = $4))
"""


@dataclass(frozen=True)
class Entry:
    group_id: int
    position: int
    uniqueid: str
    number: str
    name: str
    wait_s: int


def _text(value: object) -> str:
    text = str(value or "")
    return "" if text == _UNKNOWN else text


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def entries(messages: Iterable[Mapping[str, object]]) -> list[Entry]:
    """The waiting callers of our queues in a QueueStatus answer (other queues are not ours)."""
    found = []
    for msg in messages:
        if msg.get("Event") != "QueueEntry":
            continue
        m = OUR_QUEUE.match(str(msg.get("Queue", "")))
        if m is None:
            continue
        found.append(
            Entry(
                group_id=int(m.group(1)),
                position=_int(msg.get("Position")),
                uniqueid=_text(msg.get("Uniqueid")),
                number=_text(msg.get("CallerIDNum")),
                name=_text(msg.get("CallerIDName")),
                wait_s=_int(msg.get("Wait")),
            )
        )
    return found


def follow_queues(ami: AmiClient, calls: CallModel, publisher: EventPublisher | None) -> None:
    """Publish every caller joining or leaving one of our queues (and keep waiting.of(ami))."""
    waiting.of(ami, calls)

    def changed(event: Mapping[str, object]) -> None:
        organization = str(event.get("AccountCode") or "")
        if publisher is not None and organization and OUR_QUEUE.match(str(event.get("Queue", ""))):
            publisher.publish({"type": "queue.changed", "organization": organization})

    for name in QUEUE_EVENTS:
        ami.on_event(name, changed)


class QueueStatus:
    """QueueStatus over AMI for each queue with callers, asked at most once per CACHE_S whatever
    the number of requests (and again as soon as a caller joined or left a queue)."""

    def __init__(self, waiting: WaitingQueues) -> None:
        self.waiting = waiting
        self._generation = -1
        self._at = -CACHE_S
        self._entries: list[Entry] = []
        self._pending: asyncio.Future[list[Entry]] | None = None

    async def now(self, ami: AmiClient) -> list[Entry]:
        if time.monotonic() - self._at < CACHE_S and self._generation == self.waiting.changes:
            return self._entries
        if self._pending is None:
            self._pending = asyncio.ensure_future(self._ask(ami))
        try:
            return await asyncio.shield(self._pending)
        finally:
            if self._pending is not None and self._pending.done():
                self._pending = None

    async def _ask(self, ami: AmiClient) -> list[Entry]:
        if not ami.connected:  # what the events said may be stale: no answer rather than a guess
            raise AmiUnavailable("not connected to Asterisk", action="QueueStatus")
        generation = self.waiting.changes
        answers = await asyncio.gather(
            *(
                ami.send({"Action": "QueueStatus", "Queue": name}, timeout_s=5)
                for name in self.waiting.names()
            )
        )
        self._entries = [
            entry for answer in answers for entry in entries(answer if isinstance(answer, list) else [answer])
        ]
        self._at = time.monotonic()
        self._generation = generation
        return self._entries


async def queued(
    pool: asyncpg.Pool, org_id: int, user_id: int, everyone: bool, found: list[Entry]
) -> list[dict[str, Any]]:
    """The entries of the organization's groups the asker may see, longest waiting first."""
    if not found:
        return []
    rows = await pool.fetch(_GROUPS, org_id, sorted({e.group_id for e in found}), everyone, user_id)
    groups = {r["id"]: r for r in rows}
    out = [
        {
            "id": e.uniqueid,
            "group_id": e.group_id,
            "group_name": groups[e.group_id]["name"],
            "group_extension": groups[e.group_id]["extension"],
            "position": e.position,
            "peer_number": e.number,
            "peer_name": e.name,
            "wait_s": e.wait_s,
        }
        for e in found
        if e.group_id in groups
    ]
    out.sort(key=lambda q: (-q["wait_s"], q["group_id"], q["position"]))
    return out
