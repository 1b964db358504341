"""EventHub: one subscription to the EventPublisher, fanned out to every client's connection.

Every event is routed by its organization (the ``organization`` slug, or an ``organization_id``),
serialised to JSON and framed as a WebSocket text frame once, whatever the number of clients; each
client then costs one non-blocking transport write (no task, no queue hop per client). An event
that names no organization reaches nobody, except ``model.reset`` (the live model re-derived after
an AMI reconnect), which each organization gets with its own channels only. Nothing of one
organization ever reaches another.

Every event of an organization gets the organization's next sequence number (``seq``) and the hub's
``epoch`` (new for every hub run: a process restart, or the hub idle past ``linger_s``); the frame is
built once per organization and kept in the organization's bounded window, with its *audience*: the
endpoints of the call's parties (pbx_control.callcontrol.visibility), or None for events about the
whole organization (presence, groups). Each client has a *scope* (None: operators and admins, all
of it; else the endpoints of the user's devices) and gets a frame when ``sees(audience, scope)``:
the same frame for everyone, decided per client without re-encoding. ``join(since=...)`` replays
the window's frames after ``since`` by the same rule, or reports that it cannot (the window has
moved on, another epoch, or a ``model.reset`` / ``events.lost`` in between): the client then gets
``events.lost`` and a fresh hello.

A client's unsent bytes are bounded (``max_buffer``): past that it is too slow to follow, its
``overflowed`` flag is set and its ``on_overflow`` callback runs (the WebSocket endpoint then closes
it). Neither the hub nor the other clients ever wait for it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pbx_control.ami.calls import CallModel
from pbx_control.ami.events import Event, EventPublisher, Subscription
from pbx_control.callcontrol.visibility import party_endpoints, sees
from pbx_control.events.frames import text_frame
from pbx_control.logs import get_logger

log = get_logger("pbx_control.events")

DEFAULT_MAX_BUFFER = 256 * 1024  # unsent bytes per client before it counts as too slow
DEFAULT_HUB_QUEUE = 10_000
DEFAULT_WINDOW = 1000  # frames kept per organization for reconnecting clients (?since=)
DEFAULT_WINDOW_BYTES = 1024 * 1024  # and at most this many bytes of them
DEFAULT_LINGER_S = 120.0  # the hub keeps following (and numbering) this long after its last client
RESYNC_TYPES = ("model.reset", "events.lost")  # a replay across one of these cannot be trusted

Audience = frozenset[str] | None  # the endpoints of an event's parties; None: the whole organization
Scope = frozenset[str] | None  # the endpoints whose calls a client sees; None: all of them


def new_epoch() -> str:
    return secrets.token_hex(6)


@dataclass(slots=True)
class Entry:
    seq: int
    frame: bytes | None  # None: a resynchronisation point (a replay across it is refused)
    audience: Audience
    owner: int | None = None  # only this user sees it (their voicemail), whatever their role


class OrgLog:
    """An organization's numbering and its window of recent frames."""

    def __init__(self, window: int, window_bytes: int) -> None:
        self.seq = 0
        self.entries: deque[Entry] = deque()
        self.bytes = 0
        self.window = window
        self.window_bytes = window_bytes

    def append(self, frame: bytes | None, audience: Audience, owner: int | None = None) -> None:
        self.entries.append(Entry(self.seq, frame, audience, owner))
        self.bytes += len(frame or b"")
        while self.entries and (len(self.entries) > self.window or self.bytes > self.window_bytes):
            self.bytes -= len(self.entries.popleft().frame or b"")

    def replay(self, since: int, scope: Scope, user_id: int | None = None) -> list[bytes] | None:
        """The frames after `since` the scope sees; None when the window cannot tell them all."""
        if since > self.seq or since < 0:
            return None
        first = self.entries[0].seq if self.entries else self.seq + 1
        if since < first - 1:
            return None
        frames: list[bytes] = []
        for entry in self.entries:
            if entry.seq <= since:
                continue
            if entry.frame is None:
                return None
            if entry.owner is not None and entry.owner != user_id:
                continue
            if sees(entry.audience, scope):
                frames.append(entry.frame)
        return frames


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
        scope: Scope = None,
        user_id: int | None = None,
    ) -> None:
        self.scope = scope
        self.user_id = user_id
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
        calls: CallModel | None = None,
        window: int = DEFAULT_WINDOW,
        window_bytes: int = DEFAULT_WINDOW_BYTES,
        linger_s: float = DEFAULT_LINGER_S,
    ) -> None:
        self._publisher = publisher
        self._max_buffer = max_buffer
        self._hub_queue = hub_queue
        self.calls = calls
        """Where the parties of a call are looked up (the bridge peer, the dialling channel)."""
        self._window = window
        self._window_bytes = window_bytes
        self._linger_s = linger_s
        self._linger: asyncio.TimerHandle | None = None
        self.epoch = new_epoch()
        self._logs: dict[str, OrgLog] = {}
        self._seen_by: dict[str, frozenset[str]] = {}  # uniqueid -> every endpoint it was shown to
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
        scope: Scope = None,
        user_id: int | None = None,
    ) -> ClientFeed:
        """Start writing the organization's events (those `scope` sees) to `sink`. Nothing is
        written during the call, so a caller may write a snapshot or a replay right after it and
        miss nothing. `user_id`: the client's user, who alone gets events with their
        `owner_user_id` (their voicemail)."""
        feed = ClientFeed(organization, organization_id, sink, self._max_buffer, on_overflow, scope, user_id)
        self._feeds.setdefault(organization, set()).add(feed)
        if organization_id is not None:
            self._slug_by_id[organization_id] = organization
        self._ensure_running()
        self._log(organization)
        return feed

    def position(self, organization: str) -> int:
        """The organization's last sequence number (what a snapshot taken now is as of)."""
        return self._log(organization).seq

    def replay(
        self,
        organization: str,
        since: int,
        scope: Scope,
        epoch: str | None = None,
        user_id: int | None = None,
    ) -> list[bytes] | None:
        """The frames after `since` that `scope` sees, or None: the client missed something the
        window no longer holds (or `since` is of another epoch) and must start from a snapshot."""
        if epoch is not None and epoch != self.epoch:
            return None
        return self._log(organization).replay(since, scope, user_id)

    def _log(self, organization: str) -> OrgLog:
        log_ = self._logs.get(organization)
        if log_ is None:
            log_ = self._logs[organization] = OrgLog(self._window, self._window_bytes)
        return log_

    def leave(self, feed: ClientFeed) -> None:
        feeds = self._feeds.get(feed.organization)
        if feeds is None:
            return
        feeds.discard(feed)
        if not feeds:
            del self._feeds[feed.organization]
        if not self._feeds:
            # Keep numbering for a while, so a client that reconnects can be given what it missed.
            if self._linger_s <= 0:
                self._stop()
            elif self._linger is None:
                self._linger = asyncio.get_running_loop().call_later(self._linger_s, self._stop_if_idle)

    def _stop_if_idle(self) -> None:
        self._linger = None
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
            for org in list(self._logs):
                frame = self._number(org, event, None, resync=True)
                for feed in self._feeds.get(org, ()):
                    batch.setdefault(feed, []).append(frame)
            return
        organization = event.get("organization")
        if not isinstance(organization, str):
            org_id = event.get("organization_id")
            organization = self._slug_by_id.get(org_id) if isinstance(org_id, int) else None
        if not organization:
            return
        audience = self._audience(event)
        owner = event.get("owner_user_id")
        owner = owner if isinstance(owner, int) else None
        frame = self._number(organization, event, audience, owner=owner)
        for feed in self._feeds.get(organization, ()):
            if owner is not None and feed.user_id != owner:
                continue
            if sees(audience, feed.scope):
                batch.setdefault(feed, []).append(frame)

    def _number(
        self,
        organization: str,
        event: Event,
        audience: Audience,
        *,
        resync: bool = False,
        owner: int | None = None,
    ) -> bytes:
        """The event's frame with the organization's next seq, kept in its window."""
        log_ = self._log(organization)
        log_.seq += 1
        shown = {k: v for k, v in event.items() if k not in ("audience", "owner_user_id")}
        frame = text_frame(encode({**shown, "seq": log_.seq, "epoch": self.epoch}))
        log_.append(None if resync else frame, audience, owner)
        return frame

    def _audience(self, event: Event) -> Audience:
        """The endpoints of the parties of the call an event is about; None: not about a call."""
        kind = event.get("type")
        channel = event.get("channel")
        if kind == "channel.updated" and isinstance(channel, dict):
            uniqueid = str(channel.get("uniqueid", ""))
            audience = party_endpoints(self.calls, channel)
            self._seen_by[uniqueid] = self._seen_by.get(uniqueid, frozenset()) | audience
            return audience
        if kind == "channel.removed":
            # Everyone who was shown the channel is told it is gone.
            uniqueid = str(event.get("uniqueid", ""))
            own = event.get("endpoint")
            seen = self._seen_by.pop(uniqueid, frozenset())
            return seen | {own} if isinstance(own, str) and own else seen
        parties = event.get("audience")
        if isinstance(parties, list):  # the event names the endpoints it is for (meetings)
            return frozenset(str(e) for e in parties)
        call = event.get("call")
        if isinstance(call, dict):  # call.held, call.resumed, ...: the call and its other party
            return self._audience_of(call.get(k) for k in ("id", "peer", "from"))
        transfer = event.get("transfer")
        if isinstance(transfer, dict):
            return self._audience_of(transfer.get(k) for k in ("call", "transferee", "recipient"))
        return None

    def _audience_of(self, uniqueids: Iterable[object]) -> frozenset[str]:
        found: set[str] = set()
        for uid in uniqueids:
            if not isinstance(uid, str):
                continue
            found |= self._seen_by.get(uid, frozenset())
            channel = self.calls.get(uid) if self.calls is not None else None
            if channel is not None:
                found |= party_endpoints(self.calls, channel)
        return frozenset(found)

    def _route_reset(self, event: Event, batch: dict[ClientFeed, list[bytes]]) -> None:
        self._seen_by.clear()
        by_org: dict[str, list[dict[str, Any]]] = {org: [] for org in self._logs}
        for channel in event.get("channels", ()):
            org = channel.get("organization") if isinstance(channel, dict) else None
            if isinstance(org, str):
                by_org.setdefault(org, []).append(channel)
        for org, channels in by_org.items():
            log_ = self._log(org)
            log_.seq += 1
            log_.append(None, None)
            audiences = [party_endpoints(self.calls, c) for c in channels]
            for c, audience in zip(channels, audiences, strict=True):
                self._seen_by[str(c.get("uniqueid", ""))] = audience
            frames: dict[Scope, bytes] = {}  # one encoding per distinct scope
            for feed in self._feeds.get(org, ()):
                frame = frames.get(feed.scope)
                if frame is None:
                    mine = [c for c, a in zip(channels, audiences, strict=True) if sees(a, feed.scope)]
                    body = {**event, "channels": mine, "seq": log_.seq, "epoch": self.epoch}
                    frame = frames[feed.scope] = text_frame(encode(body))
                batch.setdefault(feed, []).append(frame)

    # -- the subscription ------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
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
        # Events go unnumbered from now on: a later run is another epoch, its windows start empty.
        self.epoch = new_epoch()
        self._logs.clear()
        self._seen_by.clear()
        self._slug_by_id = {o: s for o, s in self._slug_by_id.items() if s in self._feeds}

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


def hub_for(publisher: EventPublisher, calls: CallModel | None = None) -> EventHub:
    """The one hub of a publisher (made on first use); `calls` is where it looks up a call's
    parties."""
    hub = _HUBS.get(publisher)
    if hub is None:
        hub = _HUBS[publisher] = EventHub(publisher, calls=calls)
    elif calls is not None and hub.calls is None:
        hub.calls = calls
    return hub
