"""EventHub: one subscription to the EventPublisher, fanned out to every client's connection.

Every event is routed by its organization (the ``organization`` slug, or an ``organization_id``),
serialised to JSON and framed as a WebSocket text frame once, whatever the number of clients; each
client then costs one non-blocking transport write (no task, no queue hop per client). An event
that names no organization reaches nobody, except ``model.reset`` (the live model re-derived after
an AMI reconnect), which each organization gets with its own channels only. Nothing of one
organization ever reaches another.

A client's unsent bytes are bounded (``max_buffer``): past that it is too slow to follow, its
``overflowed`` flag is set and its ``on_overflow`` callback runs (the WebSocket endpoint then closes
it). Neither the hub nor the other clients ever wait for it.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from pbx_control.ami.events import Event, EventPublisher, Subscription
from pbx_control.events.frames import text_frame
from pbx_control.logs import get_logger

log = get_logger("pbx_control.events")

DEFAULT_MAX_BUFFER = 256 * 1024  # unsent bytes per client before it counts as too slow
DEFAULT_HUB_QUEUE = 10_000


def encode(event: Event) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False, default=str)


class Sink(Protocol):
    """Where a client's frames go: an asyncio transport has both methods."""

    def write(self, data: bytes) -> None: ...

    def get_write_buffer_size(self) -> int: ...

    def is_closing(self) -> bool: ...


class ClientFeed:
    """One client: frames are written straight to its sink until its unsent bytes pass max_buffer."""

    def __init__(
        self,
        organization: str,
        organization_id: int | None,
        sink: Sink,
        max_buffer: int,
        on_overflow: Callable[[], None] | None = None,
    ) -> None:
        self.organization = organization
        self.organization_id = organization_id
        self.sink = sink
        self.max_buffer = max_buffer
        self.on_overflow = on_overflow
        self.overflowed = False

    def offer(self, frame: bytes) -> None:
        """Write without waiting; a client with too much unsent data is marked too slow (once)."""
        if self.overflowed or self.sink.is_closing():
            return
        if self.sink.get_write_buffer_size() > self.max_buffer:
            self.overflowed = True
            if self.on_overflow is not None:
                self.on_overflow()
            return
        self.sink.write(frame)


class EventHub:
    """Fans one EventPublisher out to ClientFeeds by organization (see the module docstring).

    The hub subscribes while it has at least one client and unsubscribes when the last one leaves.
    """

    def __init__(
        self,
        publisher: EventPublisher,
        *,
        max_buffer: int = DEFAULT_MAX_BUFFER,
        hub_queue: int = DEFAULT_HUB_QUEUE,
    ) -> None:
        self._publisher = publisher
        self._max_buffer = max_buffer
        self._hub_queue = hub_queue
        self._feeds: dict[str, set[ClientFeed]] = {}
        self._slug_by_id: dict[int, str] = {}
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self.lost_total = 0
        """Events the hub's own subscription dropped (the hub fell behind the publisher)."""

    @property
    def client_count(self) -> int:
        return sum(len(feeds) for feeds in self._feeds.values())

    def join(
        self,
        organization: str,
        organization_id: int | None,
        sink: Sink,
        *,
        on_overflow: Callable[[], None] | None = None,
    ) -> ClientFeed:
        """Start writing the organization's events to `sink` (nothing is written during the call,
        so a caller may write a snapshot right after it and miss nothing)."""
        feed = ClientFeed(organization, organization_id, sink, self._max_buffer, on_overflow)
        self._feeds.setdefault(organization, set()).add(feed)
        if organization_id is not None:
            self._slug_by_id[organization_id] = organization
        self._ensure_running()
        return feed

    def leave(self, feed: ClientFeed) -> None:
        feeds = self._feeds.get(feed.organization)
        if feeds is None:
            return
        feeds.discard(feed)
        if not feeds:
            del self._feeds[feed.organization]
            if feed.organization_id is not None:
                self._slug_by_id.pop(feed.organization_id, None)
        if not self._feeds:
            self._stop()

    # -- routing ---------------------------------------------------------------------------------

    def dispatch(self, *events: Event) -> None:
        """Write events to the clients of their organizations, synchronously and never waiting.
        Each client gets all its frames of one call in a single write (one system call)."""
        batch: dict[ClientFeed, list[bytes]] = {}
        for event in events:
            try:
                self._route(event, batch)
            except Exception:  # one bad event must not end the stream for everyone
                log.exception("events.dispatch_failed", event_type=str(event.get("type")))
        for feed, frames in batch.items():
            feed.offer(frames[0] if len(frames) == 1 else b"".join(frames))

    def _route(self, event: Event, batch: dict[ClientFeed, list[bytes]]) -> None:
        kind = event.get("type")
        if kind == "model.reset":
            self._route_reset(event, batch)
            return
        if kind == "events.lost":
            targets = [feed for feeds in self._feeds.values() for feed in feeds]
        else:
            organization = event.get("organization")
            if not isinstance(organization, str):
                org_id = event.get("organization_id")
                organization = self._slug_by_id.get(org_id) if isinstance(org_id, int) else None
            targets = list(self._feeds.get(organization, ())) if organization else []
        if not targets:
            return
        frame = text_frame(encode(event))
        for feed in targets:
            batch.setdefault(feed, []).append(frame)

    def _route_reset(self, event: Event, batch: dict[ClientFeed, list[bytes]]) -> None:
        by_org: dict[str, list[dict[str, Any]]] = {org: [] for org in self._feeds}
        for channel in event.get("channels", ()):
            org = channel.get("organization") if isinstance(channel, dict) else None
            if org in by_org:
                by_org[org].append(channel)
        for org, channels in by_org.items():
            frame = text_frame(encode({**event, "channels": channels}))
            for feed in self._feeds.get(org, ()):
                batch.setdefault(feed, []).append(frame)

    # -- the subscription ------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._task is not None and not self._task.done():
            return
        self._subscription = self._publisher.subscribe(maxsize=self._hub_queue)
        self._task = asyncio.get_running_loop().create_task(self._run(self._subscription))

    def _stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        if self._subscription is not None:
            self._subscription.close()
            self._subscription = None

    async def _run(self, subscription: Subscription) -> None:
        seen_dropped = 0
        while True:
            events = [await subscription.get()]
            while True:  # everything published meanwhile (one AMI read often carries several)
                try:
                    events.append(subscription.get_nowait())
                except asyncio.QueueEmpty:
                    break
            if subscription.dropped != seen_dropped:
                lost, seen_dropped = subscription.dropped - seen_dropped, subscription.dropped
                self.lost_total += lost
                log.warning("events.hub_lost", lost=lost)
                # Clients must resynchronise (GET the state again) instead of trusting increments.
                events.insert(0, {"type": "events.lost", "count": lost})
            self.dispatch(*events)


_HUBS: weakref.WeakKeyDictionary[EventPublisher, EventHub] = weakref.WeakKeyDictionary()


def hub_for(publisher: EventPublisher) -> EventHub:
    """The one hub of a publisher (made on first use)."""
    hub = _HUBS.get(publisher)
    if hub is None:
        hub = _HUBS[publisher] = EventHub(publisher)
    return hub
