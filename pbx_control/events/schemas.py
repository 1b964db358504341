"""The messages of the live events WebSocket."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class EventMessage(BaseModel):
    """One pushed message. ``hello`` first (``organization`` and its current ``channels``), then
    ``channel.updated`` (``channel``), ``channel.removed`` (``uniqueid``, ``cause``),
    ``model.reset`` (``channels``: the whole live model again) and ``events.lost`` (resynchronise)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=["channel.updated"])
    organization: str | None = Field(default=None, description="the organization's slug")
