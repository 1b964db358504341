"""Request and response models of the directory, phonebooks, marks, caller lists and presence.

Inputs forbid unknown fields; content rules (number formats, name lengths) are checked by
pbx_control.directory.drafts, the same rules that judge imported rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Input

NumberText = Field(
    max_length=64,
    description="an extension (1001), national (070-123 45 67, 08-123 456 78) or E.164 (+46701234567)",
)


class ContactNumberIn(Input):
    number: str = NumberText
    label: str | None = Field(default=None, max_length=100, description="mobile, work, home... (40 chars)")


class ContactNumberOut(BaseModel):
    number: str = Field(description="E.164 or an extension")
    label: str


class ContactIn(Input):
    name: str | None = Field(
        default=None, max_length=1000, description="1 to 200 characters, any script; the company if absent"
    )
    company: str | None = Field(default=None, max_length=1000)
    email: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=4000)
    numbers: list[ContactNumberIn] = Field(default_factory=list, max_length=20)


class ContactPatch(Input):
    """Only the fields present change; `numbers` replaces the whole list; null clears a field."""

    name: str | None = Field(default=None, max_length=1000)
    company: str | None = Field(default=None, max_length=1000)
    email: str | None = Field(default=None, max_length=1000)
    note: str | None = Field(default=None, max_length=4000)
    numbers: list[ContactNumberIn] | None = Field(default=None, max_length=20)


class ContactOut(BaseModel):
    id: int
    book: Literal["shared", "personal"]
    name: str
    company: str | None
    email: str | None
    note: str | None
    numbers: list[ContactNumberOut]
    favorite: bool = Field(description="your mark")
    vip: bool = Field(description="your mark: rings through despite activity, forward or closed phone")
    blocked: bool = Field(description="your mark: hears busy, none of your devices rings")
    created_at: datetime
    updated_at: datetime


class MarksIn(Input):
    """Only the marks present change. Setting vip clears blocked and the other way round."""

    favorite: bool | None = None
    vip: bool | None = None
    blocked: bool | None = None


class MarksOut(BaseModel):
    favorite: bool
    vip: bool
    blocked: bool


class DirectoryItem(BaseModel):
    kind: Literal["user", "group", "contact"]
    id: int = Field(description="user, answer group or contact id (see kind)")
    name: str
    extension: str | None
    company: str | None
    email: str | None
    book: Literal["organization", "shared", "personal"]
    favorite: bool
    vip: bool
    blocked: bool
    numbers: list[ContactNumberOut] = Field(
        description="users and groups: extension (label 'extension') and DIDs ('direct')"
    )


class ImportProblem(BaseModel):
    row: int = Field(description="CSV: the spreadsheet row (header = 1); vCard: the card's number")
    line: int | None = Field(description="vCard: the line of its BEGIN:VCARD")
    name: str | None
    reason: str


class ImportReport(BaseModel):
    format: Literal["vcard", "csv"]
    dialect: str = Field(examples=["google", "outlook", "vcard 3.0"])
    book: Literal["shared", "personal"]
    rows: int = Field(description="rows (cards) read from the file")
    imported: int
    rejected: list[ImportProblem]
    skipped: list[ImportProblem] = Field(description="duplicates, not imported again")


class PresenceOut(BaseModel):
    user_id: int
    extension: str | None
    name: str
    activity: str = Field(description="available, busy, meeting, lunch, gone or custom")
    label: str | None = Field(description="the custom activity's label")
    until: datetime | None = Field(description="null: until further notice (or available)")
    note: str
    call: Literal["idle", "ringing", "on_call", "unknown"]
    on_call: bool | None = Field(description="null when this server has no live call state")
