"""Where a call to an answer group goes: the pure decision, as tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from pbx_control.groups.decision import GroupFacts, GroupRoute, Target, decide_group, is_night
from pbx_control.groups.model import Holiday, OpenHours, check_schedule, check_timezone
from pbx_control.kernel.errors import Invalid
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.groups]

# Monday 2026-11-30 10:00 in Stockholm (09:00 UTC); Sunday 2026-11-29 10:00 Stockholm.
MONDAY_10 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
SUNDAY_10 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
MONDAY_18 = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
OFFICE = (OpenHours(day="mon", open="08:00", close="17:00"),)
USER = Target("user", "1004", ("acme_1004_1",), 25)
NIGHT_USER = Target("user", "1005", ("acme_1005_1", "acme_1005_2"), 30)
VOICEMAIL = Target("voicemail", "1004")
OTHER_GROUP = Target("group", "21")
EXTERNAL = Target("external", number="+46701234567", trunk="trunk_carrier")
SERVICE = Target("answering_service", number="+46812349999", trunk="trunk_carrier")
NO_TRUNK = Target("external", number="+46701234567", trunk=None)
NO_DEVICE = Target("user", "1006", (), 30)


def facts(**kw: object) -> GroupFacts:
    base: dict = dict(
        id=7,
        extension="20",
        organization="acme",
        queue_name="g7v3",
        max_wait=60,
        logged_in=2,
        night_manual=False,
        schedule=(),
        holidays=(),
        timezone="Europe/Stockholm",
        overflow=USER,
        night=NIGHT_USER,
        callerid_num="+46812345600",
    )
    base.update(kw)
    return GroupFacts(**base)


QUEUE_TO_USER = GroupRoute(
    "queue",
    queue="g7v3",
    timeout=60,
    overflow=GroupRoute("dial", "PJSIP/acme_1004_1", 25),
    organization="acme",
)


@pytest.mark.parametrize(
    ("case", "kw", "now", "expected"),
    [
        ("open, members in: queue then overflow", {}, MONDAY_10, QUEUE_TO_USER),
        (
            "nobody logged in: overflow at once",
            {"logged_in": 0},
            MONDAY_10,
            GroupRoute("dial", "PJSIP/acme_1004_1", 25, organization="acme"),
        ),
        (
            "manual night: night destination",
            {"night_manual": True},
            MONDAY_10,
            GroupRoute("dial", "PJSIP/acme_1005_1&PJSIP/acme_1005_2", 30, organization="acme"),
        ),
        ("inside the schedule: queue", {"schedule": OFFICE}, MONDAY_10, QUEUE_TO_USER),
        (
            "after closing: night",
            {"schedule": OFFICE},
            MONDAY_18,
            GroupRoute("dial", "PJSIP/acme_1005_1&PJSIP/acme_1005_2", 30, organization="acme"),
        ),
        (
            "a day without hours: night",
            {"schedule": OFFICE},
            SUNDAY_10,
            GroupRoute("dial", "PJSIP/acme_1005_1&PJSIP/acme_1005_2", 30, organization="acme"),
        ),
        (
            "a holiday: night though open hours",
            {"schedule": OFFICE, "holidays": (Holiday(date=date(2026, 11, 30)),)},
            MONDAY_10,
            GroupRoute("dial", "PJSIP/acme_1005_1&PJSIP/acme_1005_2", 30, organization="acme"),
        ),
        (
            "a holiday without schedule changes nothing",
            {"holidays": (Holiday(date=date(2026, 11, 30)),)},
            MONDAY_10,
            QUEUE_TO_USER,
        ),
        (
            "timezone: 10:00 UTC is 05:00 in New York, closed",
            {"schedule": OFFICE, "timezone": "America/New_York"},
            MONDAY_10,
            GroupRoute("dial", "PJSIP/acme_1005_1&PJSIP/acme_1005_2", 30, organization="acme"),
        ),
        (
            "night without night destination: overflow",
            {"night_manual": True, "night": None},
            MONDAY_10,
            GroupRoute("dial", "PJSIP/acme_1004_1", 25, organization="acme"),
        ),
        (
            "night, nothing set: unavailable",
            {"night_manual": True, "night": None, "overflow": None},
            MONDAY_10,
            GroupRoute("unavailable", organization="acme"),
        ),
        (
            "nobody logged in, no overflow: unavailable",
            {"logged_in": 0, "overflow": None},
            MONDAY_10,
            GroupRoute("unavailable", organization="acme"),
        ),
        (
            "overflow to voicemail",
            {"logged_in": 0, "overflow": VOICEMAIL},
            MONDAY_10,
            GroupRoute("group-voicemail", voicemail="1004@acme", organization="acme"),
        ),
        (
            "overflow to another group",
            {"logged_in": 0, "overflow": OTHER_GROUP},
            MONDAY_10,
            GroupRoute("group-goto", goto="21", organization="acme"),
        ),
        (
            "overflow to an external number, with the organization's number",
            {"logged_in": 0, "overflow": EXTERNAL},
            MONDAY_10,
            GroupRoute(
                "external", "PJSIP/+46701234567@trunk_carrier", 120, "+46812345600", organization="acme"
            ),
        ),
        (
            "overflow to an answering service",
            {"logged_in": 0, "overflow": SERVICE},
            MONDAY_10,
            GroupRoute(
                "external", "PJSIP/+46812349999@trunk_carrier", 120, "+46812345600", organization="acme"
            ),
        ),
        (
            "external without a trunk: unavailable",
            {"logged_in": 0, "overflow": NO_TRUNK},
            MONDAY_10,
            GroupRoute("unavailable", organization="acme"),
        ),
        (
            "overflow user without device: unavailable after the queue",
            {"overflow": NO_DEVICE},
            MONDAY_10,
            GroupRoute(
                "queue", queue="g7v3", timeout=60, overflow=GroupRoute("unavailable"), organization="acme"
            ),
        ),
    ],
)
def test_decide_group(case: str, kw: dict, now: datetime, expected: GroupRoute) -> None:
    assert decide_group(facts(**kw), now) == expected, case


def test_group_to_group_overflow_stops_after_three_hops() -> None:
    f = facts(logged_in=0, overflow=OTHER_GROUP)
    assert decide_group(f, MONDAY_10, hops=2).action == "group-goto"
    assert decide_group(f, MONDAY_10, hops=3).action == "unavailable"


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        (
            QUEUE_TO_USER,
            {
                "PBX_ROUTE": "queue",
                "PBX_ORG": "acme",
                "PBX_QUEUE": "g7v3",
                "PBX_QUEUE_TIMEOUT": "60",
                "PBX_OVERFLOW_ROUTE": "dial",
                "PBX_OVERFLOW_DIAL": "PJSIP/acme_1004_1",
                "PBX_OVERFLOW_DIAL_TIMEOUT": "25",
            },
        ),
        (
            GroupRoute("group-voicemail", voicemail="1004@acme"),
            {"PBX_ROUTE": "group-voicemail", "PBX_VOICEMAIL": "1004@acme"},
        ),
        (GroupRoute("group-goto", goto="21"), {"PBX_ROUTE": "group-goto", "PBX_GROUP_GOTO": "21"}),
    ],
)
def test_variables(route: GroupRoute, expected: dict[str, str]) -> None:
    assert route.variables() == expected


@pytest.mark.parametrize(
    "route",
    [
        GroupRoute("dial", "PJSIP/acme_1004_1&Local/x@y"),
        GroupRoute("dial", "PJSIP/acme,1004"),
        GroupRoute("queue", queue="g7v3,r,,,1"),
        GroupRoute("external", "PJSIP/+4670@trunk", callerid_num="+4670)"),
        GroupRoute("group-voicemail", voicemail="1004@acme,s"),
        GroupRoute("group-goto", goto="21&1"),
        GroupRoute("dial", "PJSIP/acme_1004_1", organization="Acme;x"),
    ],
)
def test_unsafe_values_are_refused(route: GroupRoute) -> None:
    with pytest.raises(ValueError, match="unsafe"):
        route.variables()


@pytest.mark.parametrize(
    ("manual", "schedule", "now", "night"),
    [
        (False, (), MONDAY_18, False),
        (True, (), MONDAY_10, True),
        (False, OFFICE, datetime(2026, 11, 30, 7, 0, tzinfo=UTC), False),  # 08:00 opening minute
        (False, OFFICE, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), True),  # 17:00 closing minute
        (
            False,
            (OpenHours(day="mon", open="00:00", close="24:00"),),
            datetime(2026, 11, 30, 22, 59, tzinfo=UTC),
            False,
        ),
    ],
)
def test_is_night(manual: bool, schedule: tuple, now: datetime, night: bool) -> None:
    assert is_night(manual, schedule, (), "Europe/Stockholm", now) is night


@pytest.mark.parametrize(
    "schedule",
    [
        [
            OpenHours(day="mon", open="08:00", close="12:00"),
            OpenHours(day="mon", open="11:59", close="17:00"),
        ],
        [
            OpenHours(day="tue", open="08:00", close="17:00"),
            OpenHours(day="tue", open="09:00", close="10:00"),
        ],
    ],
)
def test_overlapping_schedules_are_refused(schedule: list[OpenHours]) -> None:
    with pytest.raises(Invalid, match="overlaps"):
        check_schedule(schedule)


def test_adjacent_intervals_and_other_days_are_fine() -> None:
    check_schedule(
        [
            OpenHours(day="mon", open="08:00", close="12:00"),
            OpenHours(day="mon", open="12:00", close="17:00"),
            OpenHours(day="tue", open="08:00", close="12:00"),
        ]
    )


@pytest.mark.parametrize("tz", ["Mars/Olympus", "../etc/passwd", "Europe/Stockholm;x", ""])
def test_invalid_timezones_are_refused(tz: str) -> None:
    with pytest.raises(Invalid, match="timezone"):
        check_timezone(tz)


def test_valid_timezone() -> None:
    check_timezone("Europe/Stockholm")


def test_schedule_and_holidays_at_any_hour(fixed_clock: FixedClock) -> None:
    """Open for the current Stockholm minute only, at each instant of tests.support.clock."""
    at, now = fixed_clock.instant, fixed_clock()
    schedule = (OpenHours(day=at.local_day, open=at.local_time, close=at.next_minute),)
    check_schedule(list(schedule))
    open_now = facts(schedule=schedule)
    assert decide_group(open_now, now) == QUEUE_TO_USER
    assert decide_group(open_now, now + timedelta(seconds=59 - now.second)) == QUEUE_TO_USER
    night = decide_group(open_now, now + timedelta(seconds=60 - now.second))
    assert (night.action, night.dial, night.reason) == (
        "dial",
        "PJSIP/acme_1005_1&PJSIP/acme_1005_2",
        "night: to a user",
    )
    assert is_night(False, schedule, (), "Europe/Stockholm", now - timedelta(seconds=now.second + 1))
    # holidays are local dates
    for day, closed in ((-1, False), (0, True), (1, False)):
        holidays = (Holiday(date=at.local_date + timedelta(days=day)),)
        assert is_night(False, schedule, holidays, "Europe/Stockholm", now) is closed, day
