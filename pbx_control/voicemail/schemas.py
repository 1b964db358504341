"""What the voicemail routes take and answer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class MessageOut(BaseModel):
    id: int
    folder: str = Field(description="app_voicemail's folder: INBOX (new), Old (played), Urgent, Work, ...")
    played: bool
    caller_number: str | None = Field(description="as the caller presented it (an extension or E.164)")
    caller_name: str | None = Field(
        description="resolved as on incoming calls: my phonebook, colleagues, shared"
    )
    received_at: datetime
    duration_s: int
    audio_url: str = Field(description="the WAV (Range requests; ?download=true for an attachment)")


class MessagesOut(BaseModel):
    messages: list[MessageOut]
    new: int
    played: int
    live: bool = Field(description="false: Asterisk was not reachable, the list is as last seen")


class MarkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    played: bool


class LimitsOut(BaseModel):
    max_messages: int = Field(description="messages the box holds; a caller to a full box hears it is full")
    max_seconds: int = Field(description="longest message")
    retention_days: int | None = Field(description="played messages older than this are removed; null: kept")


class LimitsIn(BaseModel):
    """Only the fields sent change; null: the default (100 messages, 300 s, kept forever)."""

    model_config = ConfigDict(extra="forbid")
    max_messages: int | None = Field(default=None, ge=1, le=9999)
    max_seconds: int | None = Field(default=None, ge=5, le=3600)
    retention_days: int | None = Field(default=None, ge=1, le=3650)


class SettingsOut(BaseModel):
    mailbox: str | None = Field(description="<extension>@<organization>; null without an extension")
    mail: bool = Field(description="each new message is mailed, with its audio attached")
    mail_to: str | None = Field(description="where to; null: my account's email")
    mail_address: str | None = Field(description="where mail goes now (mail_to, else my email)")
    greeting: str = Field(
        description="own (uploaded or recorded through 001) or default (spoken, with my name)"
    )
    limits: LimitsOut


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mail: bool | None = None
    mail_to: str | None = None


class GreetingOut(BaseModel):
    greeting: str
    seconds: float
