"""What an answer group is made of: destinations, weekly schedules, holidays. Validated here, so
the API, the seeder and the database rows share one set of rules. The call path reads the stored
rows back without this module (groups/repository.py): it never imports pydantic."""

from __future__ import annotations

import itertools
import re
from datetime import date, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pbx_control.groups.decision import HHMM, Day, DestinationKind, minutes
from pbx_control.kernel.errors import Invalid
from pbx_control.tenancy import phone_numbers

Strategy = Literal["ringall", "linear", "rrmemory", "leastrecent", "fewestcalls", "random"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Destination(_Strict):
    """Where overflow or night calls go. user/voicemail need user_id, group needs group_id,
    external/answering_service need number (E.164 or national; stored as E.164)."""

    kind: DestinationKind
    user_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    group_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    number: Annotated[str, Field(max_length=40)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Destination:
        need = {"user": "user_id", "voicemail": "user_id", "group": "group_id"}.get(self.kind, "number")
        given = {k for k in ("user_id", "group_id", "number") if getattr(self, k) is not None}
        if given != {need}:
            raise ValueError(f"a {self.kind} destination takes exactly {need}")
        if self.number is not None:
            try:
                e164 = phone_numbers.normalize(self.number)
            except Invalid as exc:
                raise ValueError(exc.message) from None
            object.__setattr__(self, "number", e164)
        return self


class OpenHours(_Strict):
    day: Day
    open: str = Field(examples=["08:00"])
    close: str = Field(examples=["17:00"])

    @field_validator("open", "close")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not HHMM.match(v):
            raise ValueError("must be HH:MM (00:00 to 24:00)")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> OpenHours:
        if minutes(self.open) >= minutes(self.close):
            raise ValueError(f"{self.day}: open {self.open} must be before close {self.close}")
        return self


class Holiday(_Strict):
    date: date
    name: Annotated[str, Field(max_length=100)] = ""


def parse_time(hhmm: str) -> time:
    return time(23, 59, 59, 999999) if hhmm == "24:00" else time.fromisoformat(hhmm)


def check_schedule(schedule: list[OpenHours]) -> None:
    """A schedule may not overlap itself: two intervals of one day must not share a minute."""
    by_day: dict[str, list[OpenHours]] = {}
    for item in schedule:
        by_day.setdefault(item.day, []).append(item)
    for day, items in by_day.items():
        items.sort(key=lambda i: minutes(i.open))
        for a, b in itertools.pairwise(items):
            if minutes(b.open) < minutes(a.close):
                raise Invalid(f"schedule overlaps itself on {day}: {a.open}-{a.close} and {b.open}-{b.close}")


def check_timezone(name: str | None) -> None:
    if name is None:
        return
    if not re.fullmatch(r"[A-Za-z0-9_+\-/]{1,64}", name):
        raise Invalid(f"timezone: unknown timezone {name!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid(f"timezone: unknown timezone {name!r}") from None


def schedule_from_row(value: Any) -> list[OpenHours]:
    """A stored schedule (jsonb, decoded) back as models; a malformed one is treated as none."""
    try:
        return [OpenHours.model_validate(v) for v in value or []]
    except (TypeError, ValueError):
        return []


def holidays_from_row(value: Any) -> list[Holiday]:
    """Stored holidays (jsonb, decoded) back as models; malformed ones are treated as none."""
    try:
        return [Holiday.model_validate(v) for v in value or []]
    except (TypeError, ValueError):
        return []


def destination_from_row(value: object) -> Destination | None:
    """A stored destination (jsonb) back as a model; a malformed one is treated as none."""
    if not value:
        return None
    try:
        return Destination.model_validate(value)
    except ValueError:
        return None
