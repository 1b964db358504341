"""Request and response bodies of the meeting routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

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


Destination = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        description="a colleague's or a group's extension, or an outside number (E.164, 0..., 00...)",
        examples=["1003", "+46701234567"],
    ),
]


class ConferenceIn(Input):
    call: str | None = Field(
        default=None,
        max_length=80,
        description="the `id` (GET /calls) of my answered two-party call to turn into the conference;"
        " without it my device rings first (a multi-party call)",
    )
    participants: list[Destination] = Field(min_length=1, max_length=49, description="who to ring in")
    device_id: Id | None = Field(default=None, description="without `call`: which of my devices rings")


class ConferenceOut(BaseModel):
    id: int = Field(description="the conference (its view: /conferences/{id}/participants)")
    ringing: list[str] = Field(description="the numbers rung, as dialled")


class AddIn(Input):
    to: Destination


class ConferenceSettingsIn(Input):
    max_participants: int = Field(ge=2, le=50, description="people in one conference, ringing included")


class ConferenceSettingsOut(BaseModel):
    max_participants: int
