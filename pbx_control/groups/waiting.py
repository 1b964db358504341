"""Which of our queues have callers waiting now, from app_queue's own events, so that nothing asks
Asterisk about every queue.

An AMI QueueStatus without a queue name makes app_queue load every realtime queue and its members
from PostgreSQL (two queries per group), and a loaded queue stays in memory: from then on every
device state change in Asterisk walks all their members (app_queue's device_state_cb). At 10,000
groups that kept Asterisk busy for minutes after each start. So the waiting callers are asked of
the queues that have some (QueueStatus with `Queue:`), and those are known from QueueCallerJoin
and QueueCallerLeave (each carries the queue's `Count` after the change), re-derived after every
AMI (re)connect from the live call model's CoreShowChannels snapshot (a waiting caller's channel
is in the Queue application).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping

from pbx_control.ami import AmiClient, CallModel

OUR_QUEUE = re.compile(r"^g([0-9]{1,18})v[0-9]{1,9}$")
QUEUE_EVENTS = ("QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon")


def _count(value: object) -> int | None:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return None


def queue_of_channel(entry: Mapping[str, object]) -> str | None:
    """Our queue a CoreShowChannel entry waits in, if its application is Queue()."""
    if str(entry.get("Application", "")).lower() != "queue":
        return None
    name = str(entry.get("ApplicationData", "")).split(",", 1)[0].strip()
    return name if OUR_QUEUE.match(name) else None


class WaitingQueues:
    """Callers waiting per queue of ours, kept from events; `changes` counts every change."""

    def __init__(self) -> None:
        self._count: dict[str, int] = {}
        self.changes = 0

    def names(self) -> list[str]:
        return sorted(self._count)

    def on_event(self, event: Mapping[str, object]) -> None:
        self.changes += 1
        queue = str(event.get("Queue", ""))
        if not OUR_QUEUE.match(queue):
            return
        name = str(event.get("Event", ""))
        count = _count(event.get("Count"))
        if name == "QueueCallerJoin":
            self._count[queue] = count if count is not None else self._count.get(queue, 0) + 1
        elif name == "QueueCallerLeave":
            left = count if count is not None else self._count.get(queue, 1) - 1
            if left > 0:
                self._count[queue] = left
            else:
                self._count.pop(queue, None)

    def replace(self, channels: Iterable[Mapping[str, object]]) -> None:
        """The counts from a CoreShowChannels answer (after a (re)connect: events may be missed)."""
        counts: dict[str, int] = {}
        for entry in channels:
            if str(entry.get("Event", "")) == "CoreShowChannel" and (queue := queue_of_channel(entry)):
                counts[queue] = counts.get(queue, 0) + 1
        self._count = counts
        self.changes += 1


_BY_CONNECTION: weakref.WeakKeyDictionary[AmiClient, WaitingQueues] = weakref.WeakKeyDictionary()


def of(ami: AmiClient, calls: CallModel) -> WaitingQueues:
    """The one WaitingQueues of this AMI connection, following its events from the first ask and
    re-derived from every snapshot of `calls` (the live call model of that connection)."""
    waiting = _BY_CONNECTION.get(ami)
    if waiting is None:
        waiting = _BY_CONNECTION[ami] = WaitingQueues()
        for name in QUEUE_EVENTS:
            ami.on_event(name, waiting.on_event)
        calls.on_snapshot(waiting.replace)
    return waiting
