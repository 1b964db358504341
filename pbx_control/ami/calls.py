"""CallModel: the live channels of Asterisk, kept from AMI events and re-derived on every connect.

Channels are keyed by Uniqueid (a channel's name can change, its Uniqueid cannot). Only Newchannel
(and a CoreShowChannels snapshot) creates a channel: any other event naming an unknown Uniqueid is
ignored, so a late event (a Cdr after the Hangup) never brings a dead channel back. Every event that
carries a channel snapshot (the unprefixed fields, and the Dest-prefixed ones of Dial events)
refreshes the channel it names.

`rederive()` (run from AmiClient.on_ready) replaces the model with a CoreShowChannels snapshot, so
after an AMI reconnect or an Asterisk restart no stale channel remains. Asterisk writes a list
response in one piece, so events read before the list belong to the old state and events read after
its last message to the new one; the latter are applied on top of the snapshot.

`apply()` is pure (no I/O): tests feed it tables of events.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pbx_control.ami.events import EventPublisher
from pbx_control.logs import get_logger

if TYPE_CHECKING:
    from pbx_control.ami.actions import PendingAction
    from pbx_control.ami.client import AmiClient

log = get_logger("pbx_control.ami.calls")

# "PJSIP/acme_1001_desk-0000002a" -> "acme_1001_desk"; Asterisk appends "-%08x" to the endpoint.
_PJSIP_CHANNEL = re.compile(r"^PJSIP/(?P<endpoint>.+)-[0-9a-fA-F]{8,}$")
_DURATION = re.compile(r"^(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2})$")
_UNKNOWN = "<unknown>"  # Asterisk's rendering of an empty caller id / connected line


def endpoint_of(channel_name: str) -> str | None:
    """The PJSIP endpoint a channel belongs to, from its name; None for Local and other channels."""
    name = channel_name.split("<", 1)[0]  # "...<ZOMBIE>" and the like during masquerades
    match = _PJSIP_CHANNEL.match(name)
    return match.group("endpoint") if match else None


@dataclass(frozen=True, slots=True)
class Channel:
    name: str
    uniqueid: str
    linkedid: str = ""
    state: str = ""  # ChannelStateDesc: Down, Ring, Ringing, Up, Busy, ...
    caller_id_num: str = ""
    caller_id_name: str = ""
    connected_line_num: str = ""
    connected_line_name: str = ""
    accountcode: str = ""  # = the organization's slug
    endpoint: str | None = None
    bridge_id: str | None = None
    context: str = ""
    exten: str = ""
    dialed_by: str | None = None  # Uniqueid of the channel that dialled this one (DialBegin)
    dial_status: str | None = None  # DialEnd's DialStatus: ANSWER, BUSY, NOANSWER, CANCEL, ...
    on_hold: bool = False  # the phone put the call on hold (re-INVITE sendonly/inactive: Hold event)
    created_at: datetime | None = None

    @property
    def organization(self) -> str | None:
        return self.accountcode or None

    def to_dict(self) -> dict[str, Any]:
        # Field by field: dataclasses.asdict deep-copies every value, and this runs for every
        # channel change while someone listens (a tenth of the loop's time under 700 live calls).
        return {
            "name": self.name,
            "uniqueid": self.uniqueid,
            "linkedid": self.linkedid,
            "state": self.state,
            "caller_id_num": self.caller_id_num,
            "caller_id_name": self.caller_id_name,
            "connected_line_num": self.connected_line_num,
            "connected_line_name": self.connected_line_name,
            "accountcode": self.accountcode,
            "endpoint": self.endpoint,
            "bridge_id": self.bridge_id,
            "context": self.context,
            "exten": self.exten,
            "dialed_by": self.dialed_by,
            "dial_status": self.dial_status,
            "on_hold": self.on_hold,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "organization": self.organization,
        }


# Snapshot header (lower case, without prefix) -> Channel field.
_SNAPSHOT_FIELDS = {
    "channel": "name",
    "linkedid": "linkedid",
    "channelstatedesc": "state",
    "calleridnum": "caller_id_num",
    "calleridname": "caller_id_name",
    "connectedlinenum": "connected_line_num",
    "connectedlinename": "connected_line_name",
    "accountcode": "accountcode",
    "context": "context",
    "exten": "exten",
}
_CLEARED_UNKNOWN = {"caller_id_num", "caller_id_name", "connected_line_num", "connected_line_name"}


def _normalise(event: Mapping[str, object]) -> dict[str, str]:
    """Lower-case keys (AMI mixes UniqueID and Uniqueid), single string values."""
    result: dict[str, str] = {}
    for key, value in event.items():
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        result[str(key).lower()] = "" if value is None else str(value)
    return result


def _snapshot_changes(ev: Mapping[str, str], prefix: str) -> dict[str, Any]:
    # Channel field -> new value, for dataclasses.replace (the value's type depends on the field).
    changes: dict[str, Any] = {}
    for header, field in _SNAPSHOT_FIELDS.items():
        key = prefix + header
        if key in ev:
            value = ev[key]
            if field in _CLEARED_UNKNOWN and value == _UNKNOWN:
                value = ""
            changes[field] = value
    if "name" in changes:
        changes["endpoint"] = endpoint_of(changes["name"])
    return changes


class CallModel:
    """Live model of Asterisk's channels (see the module docstring)."""

    def __init__(
        self, publisher: EventPublisher | None = None, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.publisher = publisher
        self._clock = clock
        self._channels: dict[str, Channel] = {}
        self._by_endpoint: dict[str, set[str]] = {}
        self._by_organization: dict[str, set[str]] = {}
        self._by_bridge: dict[str, set[str]] = {}
        self._by_dialer: dict[str, set[str]] = {}
        self._snapshot: PendingAction | None = None
        self._after_snapshot: list[Mapping[str, object]] = []
        self._rederiving = asyncio.Lock()
        self._reset_hooks: list[Callable[[], None]] = []
        self._snapshot_hooks: list[Callable[[Sequence[Mapping[str, object]]], None]] = []
        self._client: AmiClient | None = None

    # -- wiring ----------------------------------------------------------------------------------

    def attach(self, client: AmiClient) -> None:
        """Follow `client`'s events and re-derive after every (re)connection."""
        self._client = client
        client.on_event("*", self.apply)
        client.on_ready(lambda: self.rederive(client))

    def on_snapshot(self, hook: Callable[[Sequence[Mapping[str, object]]], None]) -> None:
        """Call `hook(entries)` with the CoreShowChannel entries of every snapshot the model is
        re-derived from (for what the model itself does not keep, such as a channel's application)."""
        self._snapshot_hooks.append(hook)

    def on_reset(self, hook: Callable[[], None]) -> None:
        """Call `hook` whenever the whole model is replaced (after every AMI (re)connection)."""
        self._reset_hooks.append(hook)

    # -- queries ---------------------------------------------------------------------------------

    @property
    def current(self) -> bool:
        """The model follows a live AMI connection and was re-derived on it. False while Asterisk
        or AMI is away: the channels held may be gone (a crash sends no Hangup), others missing.
        A model fed by hand (no client attached) is taken as current."""
        return self._client is None or self._client.ready

    def channels(self) -> list[Channel]:
        return list(self._channels.values())

    def get(self, uniqueid: str) -> Channel | None:
        return self._channels.get(uniqueid)

    def by_endpoint(self, endpoint: str) -> list[Channel]:
        return [self._channels[uid] for uid in self._by_endpoint.get(endpoint, ())]

    def by_organization(self, slug: str) -> list[Channel]:
        return [self._channels[uid] for uid in self._by_organization.get(slug, ())]

    def in_bridge(self, bridge_id: str) -> list[Channel]:
        return [self._channels[uid] for uid in self._by_bridge.get(bridge_id, ())]

    def dialed_from(self, uniqueid: str) -> list[Channel]:
        """The channels `uniqueid` dialled (DialBegin) that are still up."""
        return [self._channels[uid] for uid in self._by_dialer.get(uniqueid, ())]

    def is_endpoint_busy(self, endpoint: str) -> bool:
        """True while any channel exists on the endpoint, ringing included."""
        return bool(self._by_endpoint.get(endpoint))

    @property
    def _listener(self) -> EventPublisher | None:
        """The publisher while someone listens: under call load, most of the time nobody does, and
        events are built only for someone."""
        publisher = self.publisher
        return publisher if publisher is not None and publisher.subscriber_count > 0 else None

    def __len__(self) -> int:
        return len(self._channels)

    # -- event application -----------------------------------------------------------------------

    def apply(self, event: Mapping[str, object]) -> bool:
        """Apply one AMI event. Returns True if the model changed."""
        snapshot = self._snapshot
        if snapshot is not None and snapshot.done:
            # Read after the snapshot's last message: belongs on top of the snapshot (rederive).
            self._after_snapshot.append(event)
            return False
        ev = _normalise(event)
        name = ev.get("event", "").lower()
        uniqueid = ev.get("uniqueid", "")
        if name == "newchannel":
            return self._newchannel(ev)
        if name == "hangup":
            return self._remove(uniqueid, cause=ev.get("cause", ""), cause_txt=ev.get("cause-txt", ""))
        if name == "rename":
            new_name = ev.get("newname", "")
            return bool(new_name) and self._update(
                uniqueid, {"name": new_name, "endpoint": endpoint_of(new_name)}
            )

        changed = self._update(uniqueid, _snapshot_changes(ev, ""))
        dest = ev.get("destuniqueid", "")
        if dest:
            changed = self._update(dest, _snapshot_changes(ev, "dest")) or changed
        if name == "dialbegin" and dest:
            changed = self._update(dest, {"dialed_by": uniqueid or None, "dial_status": None}) or changed
        elif name == "dialend" and dest:
            changed = self._update(dest, {"dial_status": ev.get("dialstatus") or None}) or changed
        elif name in ("hold", "unhold"):
            changed = self._update(uniqueid, {"on_hold": name == "hold"}) or changed
        elif name == "bridgeenter":
            changed = self._update(uniqueid, {"bridge_id": ev.get("bridgeuniqueid") or None}) or changed
        elif name == "bridgeleave":
            current = self._channels.get(uniqueid)
            if current is not None and current.bridge_id == ev.get("bridgeuniqueid"):
                changed = self._update(uniqueid, {"bridge_id": None}) or changed
        return changed

    def _newchannel(self, ev: Mapping[str, str]) -> bool:
        uniqueid = ev.get("uniqueid", "")
        if not uniqueid:
            return False
        if uniqueid in self._channels:
            return self._update(uniqueid, _snapshot_changes(ev, ""))
        created = self._event_time(ev)
        channel = replace(
            Channel(name="", uniqueid=uniqueid, created_at=created), **_snapshot_changes(ev, "")
        )
        self._put(channel)
        self._publish_updated(channel)
        return True

    def _event_time(self, ev: Mapping[str, str]) -> datetime:
        # Present when manager.conf has timestampevents=yes.
        try:
            return datetime.fromtimestamp(float(ev["timestamp"]), UTC)
        except (KeyError, ValueError):
            return datetime.fromtimestamp(self._clock(), UTC)

    def _update(self, uniqueid: str, changes: Mapping[str, Any]) -> bool:
        current = self._channels.get(uniqueid)
        if current is None or not changes:
            return False
        updated = replace(current, **changes)
        if updated == current:
            return False
        self._put(updated)
        self._publish_updated(updated)
        return True

    def _put(self, channel: Channel) -> None:
        old = self._channels.get(channel.uniqueid)
        if old is not None:
            self._unindex(old)
        self._channels[channel.uniqueid] = channel
        if channel.endpoint:
            self._by_endpoint.setdefault(channel.endpoint, set()).add(channel.uniqueid)
        if channel.accountcode:
            self._by_organization.setdefault(channel.accountcode, set()).add(channel.uniqueid)
        if channel.bridge_id:
            self._by_bridge.setdefault(channel.bridge_id, set()).add(channel.uniqueid)
        if channel.dialed_by:
            self._by_dialer.setdefault(channel.dialed_by, set()).add(channel.uniqueid)

    def _unindex(self, channel: Channel) -> None:
        for index, key in (
            (self._by_endpoint, channel.endpoint),
            (self._by_organization, channel.accountcode),
            (self._by_bridge, channel.bridge_id),
            (self._by_dialer, channel.dialed_by),
        ):
            if key and key in index:
                index[key].discard(channel.uniqueid)
                if not index[key]:
                    del index[key]

    def _remove(self, uniqueid: str, *, cause: str = "", cause_txt: str = "") -> bool:
        channel = self._channels.pop(uniqueid, None)
        if channel is None:
            return False
        self._unindex(channel)
        publisher = self._listener
        if publisher is not None:
            publisher.publish(
                {
                    "type": "channel.removed",
                    "uniqueid": channel.uniqueid,
                    "name": channel.name,
                    "endpoint": channel.endpoint,
                    "organization": channel.organization,
                    "cause": cause,
                    "cause_txt": cause_txt,
                }
            )
        return True

    def _publish_updated(self, channel: Channel) -> None:
        publisher = self._listener
        if publisher is not None:
            publisher.publish(
                {
                    "type": "channel.updated",
                    "organization": channel.organization,
                    "channel": channel.to_dict(),
                }
            )

    def mark_on_hold(self, uniqueid: str, held: bool = True) -> bool:
        """Set a channel's phone hold from outside the event stream: a hold that outlived an AMI
        reconnect, which CoreShowChannels does not report (pbx_control/callcontrol/hold.py)."""
        return self._update(uniqueid, {"on_hold": held})

    # -- snapshot --------------------------------------------------------------------------------

    def channel_from_entry(self, entry: Mapping[str, object]) -> Channel | None:
        """A Channel from one CoreShowChannel event (None without a Uniqueid)."""
        ev = _normalise(entry)
        uniqueid = ev.get("uniqueid", "")
        if not uniqueid:
            return None
        created = datetime.fromtimestamp(self._clock(), UTC)
        match = _DURATION.match(ev.get("duration", ""))
        if match:
            created -= timedelta(hours=int(match["h"]), minutes=int(match["m"]), seconds=int(match["s"]))
        channel = replace(
            Channel(name="", uniqueid=uniqueid, created_at=created), **_snapshot_changes(ev, "")
        )
        return replace(channel, bridge_id=ev.get("bridgeid") or None)

    def reset(self, channels: Iterable[Channel]) -> None:
        """Replace the whole model (publishes model.reset with the new channel list)."""
        self._channels.clear()
        self._by_endpoint.clear()
        self._by_organization.clear()
        self._by_bridge.clear()
        self._by_dialer.clear()
        for channel in channels:
            self._put(channel)
        for hook in self._reset_hooks:
            hook()
        publisher = self._listener
        if publisher is not None:
            publisher.publish(
                {
                    "type": "model.reset",
                    "channels": [channel.to_dict() for channel in self._channels.values()],
                }
            )

    async def rederive(self, client: AmiClient) -> None:
        """Replace the model from CoreShowChannels (no stale channel survives a reconnect)."""
        async with self._rederiving:  # one snapshot at a time
            pending = client.submit({"Action": "CoreShowChannels"})
            self._snapshot = pending
            self._after_snapshot = []
            try:
                response = await pending.result()
                messages = response if isinstance(response, list) else [response]
                entries = [m for m in messages if str(m.get("Event", "")) == "CoreShowChannel"]
                channels = [c for c in (self.channel_from_entry(e) for e in entries) if c is not None]
                before = len(self._channels)
                self.reset(channels)
                for hook in self._snapshot_hooks:
                    hook(entries)
                log.info("ami.calls_rederived", channels=len(channels), before=before)
            finally:
                later, self._after_snapshot = self._after_snapshot, []
                self._snapshot = None
                for event in later:
                    self.apply(event)
