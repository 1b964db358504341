"""Request and response bodies of the answer group routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Id, Input
from pbx_control.groups.model import Destination, Holiday, OpenHours, Strategy
from pbx_control.tenancy.schemas import Extension

RingTime = Annotated[int, Field(ge=2, le=300, description="seconds each member rings")]


MaxWait = Annotated[int, Field(ge=2, le=3600, description="seconds a caller waits before overflow")]


class MemberIn(Input):
    user_id: Id
    group_admin: bool = False


class GroupCreate(Input):
    extension: Extension
    name: str = Field(min_length=1, max_length=200)
    number: str | None = Field(default=None, max_length=40, description="a DID for the group (E.164)")
    strategy: Strategy = "ringall"
    ring_time: RingTime = 20
    max_wait: MaxWait = 120
    overflow: Destination | None = None
    night_destination: Destination | None = None
    schedule: list[OpenHours] = Field(default_factory=list, max_length=100)
    holidays: list[Holiday] = Field(default_factory=list, max_length=400)
    timezone: str | None = Field(default=None, max_length=64, description="default: the organization's")
    members: list[MemberIn] = Field(default_factory=list, max_length=500, description="in ring order")


class GroupUpdate(Input):
    """Only the fields given change; `members` replaces the list (kept members stay logged in)."""

    extension: Extension | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    number: str | None = Field(default=None, max_length=40)
    strategy: Strategy | None = None
    ring_time: RingTime | None = None
    max_wait: MaxWait | None = None
    overflow: Destination | None = None
    night_destination: Destination | None = None
    schedule: list[OpenHours] | None = Field(default=None, max_length=100)
    holidays: list[Holiday] | None = Field(default=None, max_length=400)
    timezone: str | None = Field(default=None, max_length=64)
    members: list[MemberIn] | None = Field(default=None, max_length=500)


class MemberOut(BaseModel):
    user_id: int
    name: str
    extension: str | None
    position: int
    group_admin: bool
    logged_in: bool
    paused: bool = Field(description="logged in but not rung: a pause, or an activity other than Available")
    pause_reason: str


class GroupOut(BaseModel):
    id: int
    extension: str
    name: str
    number: str | None
    strategy: str
    ring_time: int
    max_wait: int
    overflow: Destination | None
    night_destination: Destination | None
    night_manual: bool
    night: bool = Field(description="in night mode now (switch, schedule or holiday)")
    schedule: list[OpenHours]
    holidays: list[Holiday]
    timezone: str | None
    state: Literal["green", "grey", "padlock"] = Field(
        description="for the asker: green logged in, grey logged out, padlock night mode"
    )
    may_answer: bool
    members: list[MemberOut]


class LoginIn(Input):
    user_id: Id | None = Field(default=None, description="a colleague; default: yourself")


class PauseIn(Input):
    user_id: Id | None = None
    paused: bool
    reason: str = Field(default="", max_length=80, pattern=r"^[^\x00-\x1f\x7f]*$")


class NightIn(Input):
    on: bool


class QueuedOut(BaseModel):
    """A caller waiting in an answer group now."""

    id: str = Field(description="the waiting caller's channel (uniqueid)")
    group_id: int
    group_name: str
    group_extension: str
    position: int = Field(description="1: next to be answered")
    peer_number: str
    peer_name: str
    wait_s: int = Field(description="seconds waited so far")
