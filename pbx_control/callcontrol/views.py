"""Which live channels are a user's calls, as an app shows them. Pure: reads a CallModel."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from pbx_control.ami.calls import CallModel, Channel
from pbx_control.callcontrol.hold import in_hold_dialplan

HeldTest = Callable[[Channel], bool]


def held_in_model(channel: Channel) -> bool:
    """Held as the model alone shows it (the service passes Hold.is_held, which knows more)."""
    return channel.on_hold or in_hold_dialplan(channel)


@dataclass(frozen=True)
class CallView:
    id: str  # the uniqueid of the user's own channel
    endpoint: str  # the device it is on
    state: str  # Ringing, Ring (dialling out), Up, ...
    peer_number: str
    peer_name: str
    bridged: bool
    since: datetime | None
    held: bool = False  # on hold, from the app or on the phone


def peer_of(calls: CallModel, channel: Channel) -> Channel | None:
    """The other party of a two-party call: the other channel in the same bridge."""
    if channel.bridge_id is None:
        return None
    for other in calls.in_bridge(channel.bridge_id):
        if other.uniqueid != channel.uniqueid:
            return other
    return None


def view(calls: CallModel, channel: Channel, held: HeldTest = held_in_model) -> CallView:
    peer = peer_of(calls, channel)
    number = channel.connected_line_num or (peer.caller_id_num if peer else "")
    name = channel.connected_line_name or (peer.caller_id_name if peer else "")
    return CallView(
        id=channel.uniqueid,
        endpoint=channel.endpoint or "",
        state=channel.state,
        peer_number=number,
        peer_name=name,
        bridged=peer is not None,
        since=channel.created_at,
        held=held(channel),
    )


def calls_of(calls: CallModel, endpoints: Iterable[str], held: HeldTest = held_in_model) -> list[CallView]:
    """The calls on these devices, oldest first."""
    channels = [c for e in endpoints for c in calls.by_endpoint(e)]
    channels.sort(key=lambda c: (c.created_at is None, c.created_at or datetime.min, c.uniqueid))
    return [view(calls, c, held) for c in channels]
