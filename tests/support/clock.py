"""Fixed clocks for the tests that involve the time of day, and what the product must say at each.

Every instant comes with its expectations written out by hand (not computed with the product's
rules), for a user of an organization in Europe/Stockholm with the default working hours
(Monday to Friday 08:00-17:00): the end of a two-hour meeting, a one-hour lunch and a 90-minute
custom activity as said after the name, and when "gone for the day" ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pbx_control.groups.decision import Day


@dataclass(frozen=True)
class Instant:
    name: str
    at: datetime  # UTC
    local_day: Day  # the weekday in Stockholm, as a group schedule names it
    local_time: str  # HH:MM in Stockholm
    local_date: date
    meeting_sv: str  # a two-hour meeting: "till onsdag klockan 1.59"
    meeting_en: str
    lunch_sv: str  # one hour (lunch's default)
    custom_sv: str  # 90 minutes
    back: datetime  # gone for the day ends: the next working day's opening, UTC
    back_sv: str  # after "och är tillbaka": "på onsdag klockan 8.00", or "klockan 8.00" the same day
    back_en: str  # after "and will be back": "on Wednesday at 8:00 AM", or "at 8:00 AM"

    @property
    def next_minute(self) -> str:
        """The local minute after local_time, as a schedule writes it ("24:00" after "23:59")."""
        hours, minutes = map(int, self.local_time.split(":"))
        after = hours * 60 + minutes + 1
        return f"{after // 60:02d}:{after % 60:02d}"


def _utc(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


INSTANTS: tuple[Instant, ...] = (
    # Wednesday 14:10 CET: the same-day case.
    Instant("weekday-afternoon", _utc(2026, 11, 25, 13, 10), "wed", "14:10", date(2026, 11, 25),
            "till klockan 16.10", "until 4:10 PM", "till klockan 15.10", "till klockan 15.40",
            _utc(2026, 11, 26, 7, 0), "på torsdag klockan 8.00", "on Thursday at 8:00 AM"),
    # Tuesday 23:59:30 CET: everything ends tomorrow, which is said as its weekday.
    Instant("local-23-59", _utc(2026, 11, 24, 22, 59, 30), "tue", "23:59", date(2026, 11, 24),
            "till onsdag klockan 1.59", "until Wednesday at 1:59 AM", "till onsdag klockan 0.59",
            "till onsdag klockan 1.29",
            _utc(2026, 11, 25, 7, 0), "på onsdag klockan 8.00", "on Wednesday at 8:00 AM"),
    # Sunday 29 March, daylight saving time starts at 02:00 CET (01:00 UTC): clocks jump to 03:00.
    Instant("dst-starts-0159", _utc(2026, 3, 29, 0, 59), "sun", "01:59", date(2026, 3, 29),
            "till klockan 4.59", "until 4:59 AM", "till klockan 3.59", "till klockan 4.29",
            _utc(2026, 3, 30, 6, 0), "på måndag klockan 8.00", "on Monday at 8:00 AM"),
    Instant("dst-started-0300", _utc(2026, 3, 29, 1, 0, 30), "sun", "03:00", date(2026, 3, 29),
            "till klockan 5.00", "until 5:00 AM", "till klockan 4.00", "till klockan 4.30",
            _utc(2026, 3, 30, 6, 0), "på måndag klockan 8.00", "on Monday at 8:00 AM"),
    # Sunday 25 October, daylight saving time ends at 03:00 CEST (01:00 UTC): 02:00-03:00 comes twice.
    Instant("dst-ends-0230-cest", _utc(2026, 10, 25, 0, 30), "sun", "02:30", date(2026, 10, 25),
            "till klockan 3.30", "until 3:30 AM", "till klockan 2.30", "till klockan 3.00",
            _utc(2026, 10, 26, 7, 0), "på måndag klockan 8.00", "on Monday at 8:00 AM"),
    Instant("dst-ended-0230-cet", _utc(2026, 10, 25, 1, 30), "sun", "02:30", date(2026, 10, 25),
            "till klockan 4.30", "until 4:30 AM", "till klockan 3.30", "till klockan 4.00",
            _utc(2026, 10, 26, 7, 0), "på måndag klockan 8.00", "on Monday at 8:00 AM"),
    # Thursday 31 December 23:30 CET: the year turns (working hours know no public holidays).
    Instant("new-years-eve-2330", _utc(2026, 12, 31, 22, 30), "thu", "23:30", date(2026, 12, 31),
            "till fredag klockan 1.30", "until Friday at 1:30 AM", "till fredag klockan 0.30",
            "till fredag klockan 1.00",
            _utc(2027, 1, 1, 7, 0), "på fredag klockan 8.00", "on Friday at 8:00 AM"),
    # Friday 1 January 00:30 CET, still 31 December in UTC: the day is the local one.
    Instant("new-year-0030", _utc(2026, 12, 31, 23, 30), "fri", "00:30", date(2027, 1, 1),
            "till klockan 2.30", "until 2:30 AM", "till klockan 1.30", "till klockan 2.00",
            _utc(2027, 1, 1, 7, 0), "klockan 8.00", "at 8:00 AM"),
    # Friday 18:00 CET: gone for the day is back on Monday.
    Instant("friday-evening", _utc(2026, 11, 27, 17, 0), "fri", "18:00", date(2026, 11, 27),
            "till klockan 20.00", "until 8:00 PM", "till klockan 19.00", "till klockan 19.30",
            _utc(2026, 11, 30, 7, 0), "på måndag klockan 8.00", "on Monday at 8:00 AM"),
)  # fmt: skip
# Tests that do not ask for every instant run at this one.
DEFAULT = INSTANTS[0]


class FixedClock:
    """A Clock (pbx_control.kernel.clock) that stands still at one instant until a test moves it."""

    def __init__(self, instant: Instant) -> None:
        self.instant = instant
        self.at = instant.at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, by: timedelta) -> None:
        self.at += by

    def __repr__(self) -> str:
        return f"FixedClock({self.instant.name}, {self.at.isoformat()})"
