"""Request and response bodies of the call policy routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Input
from pbx_control.policy.model import OutsideClass

_CLASSES = "classes of outside numbers: national, mobile, international, premium"


class PolicyIn(Input):
    """Only the fields sent change. Calls inside the organization and emergency numbers are always
    allowed; premium and international are refused until listed here."""

    dial: list[OutsideClass] | None = Field(
        default=None, max_length=4, description=f"may be dialled: {_CLASSES}"
    )
    forward: list[OutsideClass] | None = Field(
        default=None, max_length=4, description="may be forwarded to (all, busy, no answer, activities)"
    )
    transfer: list[OutsideClass] | None = Field(
        default=None, max_length=4, description="may be transferred to"
    )
    overflow: list[OutsideClass] | None = Field(
        default=None, max_length=4, description="may be an answer group's overflow or night destination"
    )
    max_outside_calls: int | None = Field(
        default=None, ge=1, le=10000, description="concurrent calls out through the trunk; null: no limit"
    )
    max_call_seconds: int | None = Field(
        default=None,
        ge=1,
        le=86400,
        description="the longest call out through the trunk, seconds; null: no limit",
    )


class PolicyOut(BaseModel):
    dial: list[OutsideClass]
    forward: list[OutsideClass]
    transfer: list[OutsideClass]
    overflow: list[OutsideClass]
    max_outside_calls: int | None
    max_call_seconds: int | None


class NarrowingIn(Input):
    """A list narrows the user to those classes (within the organization's); null gives the use
    back to the organization's policy. Only the fields sent change."""

    dial: list[OutsideClass] | None = Field(default=None, max_length=4)
    forward: list[OutsideClass] | None = Field(default=None, max_length=4)
    transfer: list[OutsideClass] | None = Field(default=None, max_length=4)


class NarrowingOut(BaseModel):
    dial: list[OutsideClass] | None
    forward: list[OutsideClass] | None
    transfer: list[OutsideClass] | None
    effective: PolicyOut = Field(description="what applies to the user's calls now")
