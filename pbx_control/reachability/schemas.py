"""Request and response bodies of the reachability routes (activities, custom settings)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Id, Input
from pbx_control.reachability.decision import ActivityDestination


class ActivityIn(Input):
    """At most one of duration_minutes, until and until_further_notice; none: the activity's
    default (Busy 15 min, Meeting 1 h, Lunch 1 h, Gone for the day: the next working day)."""

    activity: str = Field(
        description="available | busy | meeting | lunch | gone | custom", examples=["meeting"]
    )
    custom_activity_id: Id | None = Field(default=None, description="with activity custom")
    duration_minutes: int | None = Field(
        default=None, description="busy: 15, 30 or 45; meeting: 60, 120 or 180; lunch: 60; custom: 1 to 43200"
    )
    until: datetime | None = Field(
        default=None, description="end time with a timezone offset, within 31 days"
    )
    until_further_notice: bool = False
    note: str | None = Field(
        default=None, description="what colleagues see; at most 200 characters; absent: kept"
    )


class ActivityOut(BaseModel):
    activity: str
    label: str
    custom_activity_id: int | None
    until: datetime | None = Field(description="null: until further notice (or available)")
    until_further_notice: bool
    destination: str | None = Field(description="where callers go after the announcement")
    forward_to: str | None
    note: str
    announcement: str | None = Field(description="the sentence callers hear")
    announcement_ready: bool = Field(description="its audio is made; until then calls skip it")
    set_at: datetime | None


class BuiltinActivity(BaseModel):
    activity: str
    label_sv: str
    label_en: str
    durations: list[int] = Field(description="allowed duration_minutes; empty: none (gone: next working day)")
    default_minutes: int | None


class CustomActivityIn(Input):
    label: str = Field(description="1 to 60 characters, any script; no control characters")
    spoken_text: str = Field(
        description="what callers hear after your name, in your language: 'är på kundbesök'",
        examples=["är på kurs"],
    )
    default_minutes: int | None = Field(default=None, description="1 to 43200; null: until further notice")
    destination: ActivityDestination = "voicemail"
    forward_to: str | None = Field(
        default=None, description="with destination forward: extension or phone number"
    )


class CustomActivityUpdate(Input):
    label: str | None = None
    spoken_text: str | None = None
    default_minutes: int | None = None
    destination: ActivityDestination | None = None
    forward_to: str | None = None


class CustomActivityOut(BaseModel):
    id: int
    label: str
    spoken_text: str
    default_minutes: int | None
    destination: str
    forward_to: str | None
    created_at: datetime


class ActivityChoices(BaseModel):
    builtin: list[BuiltinActivity]
    custom: list[CustomActivityOut]


class SettingsIn(Input):
    """Only the fields sent change; null switches a setting off. An *_until end time (with a
    timezone offset, within a year) belongs to its setting; left out: until further notice."""

    closed: bool | None = Field(default=None, description="closed phone: every call to voicemail, VIP aside")
    closed_until: datetime | None = None
    forward_all: str | None = Field(
        default=None, description="extension, or phone number out through the trunk"
    )
    forward_all_until: datetime | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    forward_no_answer_seconds: int | None = Field(default=None, description="5 to 120 (default 20)")
    outgoing_callerid: Literal["main", "own", "hidden"] | None = Field(
        default=None, description="temporary outgoing caller id: main number, own number, or hidden"
    )
    outgoing_callerid_until: datetime | None = None
    block_anonymous: bool | None = Field(default=None, description="callers without a number hear busy")


class SettingsOut(BaseModel):
    closed: bool
    closed_until: datetime | None
    forward_all: str | None
    forward_all_until: datetime | None
    forward_busy: str | None
    forward_no_answer: str | None
    forward_no_answer_seconds: int
    outgoing_callerid: str | None
    outgoing_callerid_until: datetime | None
    block_anonymous: bool
