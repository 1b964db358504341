"""Request and response bodies of the meeting routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Id, Input

Name = Field(min_length=1, max_length=200)


class MeetingIn(Input):
    name: str = Name
    starts_at: datetime | None = Field(default=None, description="optional, with a time zone")
    ends_at: datetime | None = Field(
        default=None, description="optional; after it the dial-in says the meeting has ended"
    )


class MeetingPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    new_pins: bool = Field(default=False, description="true: draw a new PIN and host PIN")


class InvitationOut(BaseModel):
    dial_in_extension: str = Field(description="what the organization's phones dial")
    dial_in_number: str | None = Field(
        description="the outside number (E.164), when the organization has one"
    )
    pin: str
    text_sv: str
    text_en: str
    ics_url: str = Field(description="the iCalendar file of the invitation, below /api/v1")


class MeetingOut(BaseModel):
    id: int
    owner_user_id: int
    name: str
    starts_at: datetime | None
    ends_at: datetime | None
    pin: str
    host_pin: str | None = Field(description="shown to the owner and admins only")
    created_at: datetime
    invitation: InvitationOut


class DialInIn(Input):
    number: str | None = Field(description="one of the organization's numbers (E.164), or null for none")


class DialInOut(BaseModel):
    number: str | None


class MuteIn(Input):
    muted: bool


class LockIn(Input):
    locked: bool


class ParticipantOut(BaseModel):
    id: int = Field(description="the participant's number within this room")
    name: str
    number: str
    joined_at: datetime
    host: bool
    talking: bool
    muted: bool


class RoomOut(BaseModel):
    active: bool = Field(description="false: nobody is in the room")
    locked: bool
    participants: list[ParticipantOut]


class JoinIn(Input):
    device_id: Id | None = Field(default=None, description="one of my devices; default: my first")
