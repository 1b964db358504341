"""Built-in activities and when an activity ends. Pure; no I/O.

An end time of None means "until further notice". Whether an activity is still on is decided at
call time (`is_active`), so an activity ends by itself: nothing needs to run at its end time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pbx_control.kernel.errors import Invalid

MAX_AHEAD = timedelta(days=31)
MAX_CUSTOM_MINUTES = 43200  # 30 days
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Builtin:
    kind: str
    label_sv: str
    label_en: str
    durations: tuple[int, ...]  # allowed durations in minutes; () = none (available, gone)
    default_minutes: int | None


BUILTINS: dict[str, Builtin] = {
    b.kind: b
    for b in (
        Builtin("available", "Tillgänglig", "Available", (), None),
        Builtin("busy", "Upptagen", "Busy", (15, 30, 45), 15),
        Builtin("meeting", "Möte", "Meeting", (60, 120, 180), 60),
        Builtin("lunch", "Lunch", "Lunch", (60,), 60),
        Builtin("gone", "Gått för dagen", "Gone for the day", (), None),
    )
}
KINDS = (*BUILTINS, "custom")


def is_active(kind: str | None, until: datetime | None, now: datetime) -> bool:
    """An activity other than Available whose end time (if any) is still ahead."""
    if kind is None or kind == "available":
        return False
    return until is None or until > now


def next_working_day_start(
    now: datetime, timezone: str, working_hours: dict[str, list[str]]
) -> datetime | None:
    """The first opening time strictly after `now` in the organization's timezone and hours.
    None when the organization has no working day at all."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    for offset in range(15):
        day: date = local.date() + timedelta(days=offset)
        hours = working_hours.get(_DAYS[day.weekday()])
        if not hours:
            continue
        start = datetime.combine(day, time.fromisoformat(hours[0]), tz)
        if start > now:
            return start
    return None


def resolve_until(
    kind: str,
    now: datetime,
    *,
    duration_minutes: int | None = None,
    until: datetime | None = None,
    until_further_notice: bool = False,
    custom_default_minutes: int | None = None,
    timezone: str = "Europe/Stockholm",
    working_hours: dict[str, list[str]] | None = None,
) -> datetime | None:
    """The end time of an activity being set now, or raise Invalid saying what is wrong."""
    if kind not in KINDS:
        raise Invalid(f"unknown activity {kind!r}; use one of {', '.join(KINDS)}")
    given = sum((duration_minutes is not None, until is not None, until_further_notice))
    if given > 1:
        raise Invalid("give at most one of duration_minutes, until and until_further_notice")
    if kind == "available":
        if given:
            raise Invalid("available has no end time")
        return None
    if until_further_notice:
        return None
    if until is not None:
        if until.tzinfo is None:
            raise Invalid("until must have a timezone offset, e.g. 2026-11-25T14:30:00+01:00")
        if until <= now:
            raise Invalid("until is in the past")
        if until - now > MAX_AHEAD:
            raise Invalid("until is more than 31 days ahead; use until_further_notice")
        return until
    if duration_minutes is not None:
        if kind == "custom":
            if not 1 <= duration_minutes <= MAX_CUSTOM_MINUTES:
                raise Invalid(f"duration_minutes must be 1 to {MAX_CUSTOM_MINUTES}")
        elif not BUILTINS[kind].durations:
            raise Invalid(f"{kind} has no duration; give until or until_further_notice")
        elif duration_minutes not in BUILTINS[kind].durations:
            allowed = ", ".join(str(d) for d in BUILTINS[kind].durations)
            raise Invalid(f"duration_minutes for {kind} must be one of {allowed}")
        return now + timedelta(minutes=duration_minutes)
    if kind == "gone":
        return next_working_day_start(now, timezone, working_hours or {})
    minutes = custom_default_minutes if kind == "custom" else BUILTINS[kind].default_minutes
    return None if minutes is None else now + timedelta(minutes=minutes)
