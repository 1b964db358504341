"""The messages of the live events WebSocket."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EventMessage(BaseModel):
    """One pushed message. ``hello`` first (``organization``, ``epoch``, ``seq`` and the current
    ``channels`` the asker sees), then ``channel.updated`` (``channel``), ``channel.removed``
    (``uniqueid``, ``cause``), ``transfer.*``, ``model.reset`` (``channels``: the live model again)
    and ``events.lost`` (resynchronise). After ``?since=``: ``events.resumed`` and the missed events,
    or ``events.lost`` and a ``hello``. Every event carries ``seq`` and ``epoch``."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["channel.updated"])
    organization: str | None = Field(default=None, description="the organization's slug")
    seq: int | None = Field(default=None, description="the organization's number for this event")
    epoch: str | None = Field(default=None, description="changes when numbering starts again")


class TicketOut(BaseModel):
    """A single-use ticket for one WebSocket upgrade: ``GET /events?ticket=<ticket>``."""

    ticket: str = Field(description="opaque; good for one upgrade, for the user who asked")
    expires_in_s: int = Field(examples=[30], description="seconds until it can no longer be used")
