"""Presence and answer-group changes as live events, for apps that show them without polling.

`presence.changed` and `groups.changed` carry only the organization (`organization_id` or
`organization`): a client reads `GET /presence` or `GET /groups` again; both are visible to every
member, so the events go to the whole organization and give away nothing about anyone's calls.
Sources: `NOTIFY pbx_live` from the database (pbx_control/sql/023: activities, notes, users,
devices, group membership and night mode), and the live call model: a channel that appears,
changes state or goes away changes someone's "on a call" or "ringing". A burst of changes of one
organization is one event per `coalesce_s`.
"""

from __future__ import annotations

import asyncio
import contextlib

from pbx_control.ami.events import Event, EventPublisher, Subscription
from pbx_control.kernel.listen import listen_forever
from pbx_control.logs import get_logger

log = get_logger("pbx_control.events.live")

CHANNEL = "pbx_live"
PING_S = 10.0  # a half-open connection to PostgreSQL is noticed within this
KINDS = ("presence", "groups")


def parse_notification(payload: str) -> tuple[str, int] | None:
    """'presence:12' -> ("presence", 12); anything else None."""
    kind, _, org = payload.partition(":")
    if kind not in KINDS or not org.isdigit():
        return None
    return kind, int(org)


class CallPresence:
    """Which channel state changes change presence: a new channel, another state, a removed one."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}

    def changed(self, event: Event) -> str | None:
        """The organization (slug) whose presence the event changed, else None."""
        kind = event.get("type")
        if kind == "channel.updated":
            channel = event.get("channel")
            if not isinstance(channel, dict):
                return None
            uid, state = str(channel.get("uniqueid") or ""), str(channel.get("state") or "")
            if not uid or self._states.get(uid) == state:
                return None
            self._states[uid] = state
        elif kind == "channel.removed":
            if self._states.pop(str(event.get("uniqueid") or ""), None) is None:
                return None
        elif kind == "model.reset":
            self._states.clear()
            return None
        else:
            return None
        org = event.get("organization")
        return org if isinstance(org, str) and org else None


class LiveNotifier:
    """The worker: follows the database's notifications and the call model, publishes the events."""

    def __init__(
        self, publisher: EventPublisher, listen_dsn: str, *, coalesce_s: float = 0.2, retry_s: float = 2.0
    ) -> None:
        self._publisher = publisher
        self._dsn = listen_dsn
        self._coalesce_s = coalesce_s
        self._retry_s = retry_s
        self._pending: set[tuple[str, int | str]] = set()
        self._flush_at: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._calls = CallPresence()

    async def start(self) -> None:
        subscription = self._publisher.subscribe()
        self._tasks = [
            asyncio.create_task(self._follow_calls(subscription), name="live-calls"),
            asyncio.create_task(self._listen(), name="live-listen"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None

    def note(self, kind: str, organization: int | str) -> None:
        self._pending.add((kind, organization))
        if self._flush_at is None:
            self._flush_at = asyncio.get_running_loop().call_later(self._coalesce_s, self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        pending, self._pending = self._pending, set()
        for kind, org in sorted(pending, key=str):
            key = "organization_id" if isinstance(org, int) else "organization"
            self._publisher.publish({"type": f"{kind}.changed", key: org})

    async def _follow_calls(self, subscription: Subscription) -> None:
        with subscription:
            async for event in subscription:
                org = self._calls.changed(event)
                if org is not None:
                    self.note("presence", org)

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        parsed = parse_notification(str(payload))
        if parsed is not None:
            self.note(*parsed)

    async def _listen(self) -> None:
        await listen_forever(
            self._dsn,
            CHANNEL,
            self._notified,
            log=log,
            event="events.live_listen_failed",
            ping_s=PING_S,
            retry_s=self._retry_s,
        )
