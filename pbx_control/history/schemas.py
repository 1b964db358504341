"""Request and response bodies of the history routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Id, Input
from pbx_control.history.outcome import Direction, Result


class HistoryDeviceOut(BaseModel):
    id: int
    kind: str | None
    label: str | None
    sip_username: str | None


class HistoryEntryOut(BaseModel):
    id: int
    user_id: int
    direction: Direction = Field(
        description="out: placed by the user; in: for the user or their devices rang"
    )
    result: Result = Field(
        description="out: answered | voicemail | not_answered; in: answered | answered_elsewhere "
        "(a colleague took the group call) | voicemail | diverted (an activity, a closed phone or a "
        "forward sent it elsewhere) | missed"
    )
    missed: bool = Field(description="in, and not answered by the user (voicemail and diverted included)")
    voicemail: bool = Field(
        description="the call ended in a voicemail box (the user's, or for out the callee's)"
    )
    seen: bool = Field(description="false for a missed call the user has not marked seen")
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_s: int = Field(description="talk time (answered) or time in voicemail, seconds")
    peer_number: str = Field(description="the number dialled (out) or the caller's (in)")
    peer_name: str | None = Field(
        description="from the user's phonebook, a colleague, the shared phonebook, else the caller id name"
    )
    device: HistoryDeviceOut | None = Field(description="the user's device that placed or answered the call")
    hangup_cause: int | None


class HistoryPageOut(BaseModel):
    items: list[HistoryEntryOut]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next (older) page; null: no more")
    unseen_missed: int = Field(
        description="the user's missed calls not marked seen (0 in the organization view)"
    )


class SeenUpToIn(Input):
    up_to: Id = Field(description="a history id: it and every older missed call are marked seen")


class SeenOut(BaseModel):
    marked: int
    unseen_missed: int
