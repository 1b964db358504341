"""Live events for client apps: the EventPublisher's changes fanned out per organization.

`EventHub` (one per publisher) subscribes once, filters each event to the organization it belongs
to, frames it once and writes the frame to that organization's `ClientFeed`s (one per WebSocket
client, bounded by its unsent bytes). The WebSocket endpoint itself is pbx_control.events.http.
"""

from pbx_control.events.hub import ClientFeed, EventHub, hub_for

__all__ = ["ClientFeed", "EventHub", "hub_for"]
