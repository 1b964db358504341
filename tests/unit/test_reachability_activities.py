"""Activities: end times (durations, until, until further notice, Gone for the day) and what callers
hear, as tables. Pure; the audio test needs espeak-ng and sox (installed by scripts/setup.sh)."""

from __future__ import annotations

import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pbx_control.kernel.errors import Invalid
from pbx_control.reachability.activities import is_active, next_working_day_start, resolve_until
from pbx_control.reachability.prompts import ensure_prompt, prompt_key
from pbx_control.reachability.sentences import clean, sentence
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.reachability]

STO = "Europe/Stockholm"
HOURS = {d: ["08:00", "17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
# Wednesday 25 November 2026, 13:00 UTC = 14:00 in Stockholm.
NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "kwargs", "expected"),
    [
        ("available", {}, None),
        ("busy", {}, NOW + timedelta(minutes=15)),
        ("busy", {"duration_minutes": 15}, NOW + timedelta(minutes=15)),
        ("busy", {"duration_minutes": 30}, NOW + timedelta(minutes=30)),
        ("busy", {"duration_minutes": 45}, NOW + timedelta(minutes=45)),
        ("meeting", {}, NOW + timedelta(hours=1)),
        ("meeting", {"duration_minutes": 60}, NOW + timedelta(hours=1)),
        ("meeting", {"duration_minutes": 120}, NOW + timedelta(hours=2)),
        ("meeting", {"duration_minutes": 180}, NOW + timedelta(hours=3)),
        ("lunch", {}, NOW + timedelta(hours=1)),
        ("lunch", {"duration_minutes": 60}, NOW + timedelta(hours=1)),
        # Gone for the day: Thursday 08:00 in Stockholm (07:00 UTC)
        ("gone", {}, datetime(2026, 11, 26, 7, 0, tzinfo=UTC)),
        # any of them until further notice
        ("busy", {"until_further_notice": True}, None),
        ("meeting", {"until_further_notice": True}, None),
        ("lunch", {"until_further_notice": True}, None),
        ("gone", {"until_further_notice": True}, None),
        ("custom", {"until_further_notice": True, "custom_default_minutes": 30}, None),
        # an explicit end time
        ("meeting", {"until": NOW + timedelta(minutes=90)}, NOW + timedelta(minutes=90)),
        # custom activities: their default, or any duration up to 30 days
        ("custom", {"custom_default_minutes": 30}, NOW + timedelta(minutes=30)),
        ("custom", {}, None),
        ("custom", {"duration_minutes": 43200}, NOW + timedelta(days=30)),
    ],
)
def test_end_times(kind: str, kwargs: dict, expected: datetime | None) -> None:
    got = resolve_until(kind, NOW, timezone=STO, working_hours=HOURS, **kwargs)
    assert got == expected


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("vacation", {}, "unknown activity"),
        ("", {}, "unknown activity"),
        ("busy", {"duration_minutes": 20}, "must be one of 15, 30, 45"),
        ("meeting", {"duration_minutes": 0}, "must be one of 60, 120, 180"),
        ("meeting", {"duration_minutes": -60}, "must be one of"),
        ("lunch", {"duration_minutes": 90}, "must be one of 60"),
        ("gone", {"duration_minutes": 60}, "has no duration"),
        ("custom", {"duration_minutes": 0}, "1 to 43200"),
        ("custom", {"duration_minutes": 43201}, "1 to 43200"),
        ("meeting", {"until": NOW - timedelta(seconds=1)}, "in the past"),
        ("meeting", {"until": NOW}, "in the past"),
        ("meeting", {"until": NOW + timedelta(days=32)}, "31 days"),
        ("meeting", {"until": datetime(2026, 11, 25, 18, 0)}, "timezone offset"),
        ("meeting", {"duration_minutes": 60, "until_further_notice": True}, "at most one"),
        ("available", {"until_further_notice": True}, "no end time"),
    ],
)
def test_bad_end_times_say_why(kind: str, kwargs: dict, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        resolve_until(kind, NOW, timezone=STO, working_hours=HOURS, **kwargs)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday evening -> Monday 08:00 (CET, UTC+1)
        (datetime(2026, 11, 27, 17, 30, tzinfo=UTC), datetime(2026, 11, 30, 7, 0, tzinfo=UTC)),
        # early Wednesday morning, before opening -> the same day at 08:00
        (datetime(2026, 11, 25, 5, 0, tzinfo=UTC), datetime(2026, 11, 25, 7, 0, tzinfo=UTC)),
        # across the change to summer time (29 March 2026): Friday 27 -> Monday 30 at 08:00 CEST
        (datetime(2026, 3, 27, 16, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 0, tzinfo=UTC)),
    ],
)
def test_gone_for_the_day_ends_at_the_next_working_day(now: datetime, expected: datetime) -> None:
    assert next_working_day_start(now, STO, HOURS) == expected


def test_gone_for_the_day_in_another_timezone_and_hours() -> None:
    hours = {"sun": ["09:30", "18:00"]}
    got = next_working_day_start(NOW, "America/New_York", hours)
    assert got == datetime(2026, 11, 29, 14, 30, tzinfo=UTC)
    assert next_working_day_start(NOW, STO, {}) is None  # no working day at all: until further notice


@pytest.mark.parametrize(
    ("kind", "until", "active"),
    [
        ("meeting", NOW + timedelta(seconds=1), True),
        ("meeting", NOW, False),
        ("meeting", NOW - timedelta(hours=1), False),
        ("meeting", None, True),
        ("available", None, False),
        (None, None, False),
    ],
)
def test_an_activity_ends_by_itself(kind: str | None, until: datetime | None, active: bool) -> None:
    assert is_active(kind, until, NOW) is active


# --- what callers hear -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "until", "language", "custom", "text"),
    [
        ("meeting", datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "sv", None,
         "Anna Svensson är på möte till klockan 14.30."),
        ("meeting", datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "en", None,
         "Anna Svensson is in a meeting until 2:30 PM."),
        ("busy", datetime(2026, 11, 25, 13, 15, tzinfo=UTC), "sv", None,
         "Anna Svensson är upptagen till klockan 14.15."),
        ("lunch", datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "en", None,
         "Anna Svensson is at lunch until 3:00 PM."),
        ("busy", None, "sv", None, "Anna Svensson är upptagen tills vidare."),
        ("meeting", None, "en", None, "Anna Svensson is in a meeting until further notice."),
        ("gone", datetime(2026, 11, 26, 7, 0, tzinfo=UTC), "sv", None,
         "Anna Svensson har gått för dagen och är tillbaka på torsdag klockan 8.00."),
        ("gone", datetime(2026, 11, 26, 7, 0, tzinfo=UTC), "en", None,
         "Anna Svensson has left for the day and will be back on Thursday at 8:00 AM."),
        ("meeting", datetime(2026, 12, 10, 8, 0, tzinfo=UTC), "sv", None,
         "Anna Svensson är på möte till den 10 december klockan 9.00."),
        ("meeting", datetime(2026, 12, 10, 8, 0, tzinfo=UTC), "en", None,
         "Anna Svensson is in a meeting until December 10 at 9:00 AM."),
        ("custom", datetime(2026, 11, 27, 15, 0, tzinfo=UTC), "sv", "är på kundbesök",
         "Anna Svensson är på kundbesök till fredag klockan 16.00."),
        ("custom", None, "en", "is on a course.", "Anna Svensson is on a course until further notice."),
    ],
)  # fmt: skip
def test_sentences(kind: str, until: datetime | None, language: str, custom: str | None, text: str) -> None:
    assert (
        sentence("Anna Svensson", kind, until, NOW, language=language, timezone=STO, custom_text=custom)
        == text
    )


def test_end_times_and_sentences_at_any_hour(fixed_clock: FixedClock) -> None:
    """What is set and said at each instant of tests.support.clock: across midnight, both daylight
    saving switches, the turn of the year, a weekend."""
    at, now = fixed_clock.instant, fixed_clock()
    ends = {
        "meeting": resolve_until("meeting", now, duration_minutes=120, timezone=STO, working_hours=HOURS),
        "lunch": resolve_until("lunch", now, timezone=STO, working_hours=HOURS),
        "custom": resolve_until("custom", now, custom_default_minutes=90, timezone=STO, working_hours=HOURS),
        "gone": resolve_until("gone", now, timezone=STO, working_hours=HOURS),
    }
    assert ends == {
        "meeting": now + timedelta(hours=2),
        "lunch": now + timedelta(hours=1),
        "custom": now + timedelta(minutes=90),
        "gone": at.back,
    }

    def say(kind: str, language: str = "sv", custom: str | None = None) -> str:
        return sentence(
            "Anna Svensson", kind, ends[kind], now, language=language, timezone=STO, custom_text=custom
        )

    assert say("meeting") == f"Anna Svensson är på möte {at.meeting_sv}."
    assert say("meeting", "en") == f"Anna Svensson is in a meeting {at.meeting_en}."
    assert say("lunch") == f"Anna Svensson är på lunch {at.lunch_sv}."
    assert say("custom", custom="är på kurs") == f"Anna Svensson är på kurs {at.custom_sv}."
    assert say("gone") == f"Anna Svensson har gått för dagen och är tillbaka {at.back_sv}."
    assert say("gone", "en") == f"Anna Svensson has left for the day and will be back {at.back_en}."
    # each ends exactly at its end time
    meeting_end = ends["meeting"]
    assert meeting_end is not None
    assert is_active("meeting", meeting_end, meeting_end - timedelta(microseconds=1))
    assert not is_active("meeting", meeting_end, meeting_end)


@pytest.mark.parametrize(
    ("language", "until", "spoken"),
    [
        # espeak-ng reads "14.30" as "fourteen point thirty": the spoken form says it right
        ("sv", datetime(2026, 11, 25, 13, 30, tzinfo=UTC), "Anna Svensson är på möte till klockan 14:30."),
        ("sv", datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "Anna Svensson är på möte till klockan 15."),
        ("en", datetime(2026, 11, 25, 14, 0, tzinfo=UTC), "Anna Svensson is in a meeting until 3 PM."),
        ("en", datetime(2026, 11, 25, 14, 5, tzinfo=UTC), "Anna Svensson is in a meeting until 3 oh 5 PM."),
    ],
)
def test_spoken_form_of_times(language: str, until: datetime, spoken: str) -> None:
    assert (
        sentence("Anna Svensson", "meeting", until, NOW, language=language, timezone=STO, spoken=True)
        == spoken
    )


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ('Eve "the boss"\n--help', "Eve the boss --help"),
        ("Åsa Öberg", "Åsa Öberg"),
        ("Дмитрий Иванов", "Дмитрий Иванов"),
        ("<script>$(rm -rf)</script>", "script rm -rf script"),
        ("Anna\u202eSvensson", "Anna Svensson"),
    ],
)
def test_names_are_safe_in_prompts(name: str, said: str) -> None:
    assert clean(name) == said
    text = sentence(name, "busy", None, NOW, language="en", timezone=STO)
    assert text.startswith(said + " is busy")
    assert "\n" not in text and '"' not in text


async def test_prompt_audio_is_8khz_mono_and_cached(tmp_path: Path) -> None:
    text = "Anna Svensson är på möte till klockan 14:30."
    key = await ensure_prompt(tmp_path, text, "sv")
    assert key == prompt_key(text, "sv")
    path = tmp_path / f"{key}.wav"
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # more than a second of speech
    mtime = path.stat().st_mtime_ns
    assert await ensure_prompt(tmp_path, text, "sv") == key  # cached: not made again
    assert path.stat().st_mtime_ns == mtime
    assert await ensure_prompt(tmp_path, text, "en") != key  # another voice, another file
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # noqa: ASYNC240
    assert leftovers == []  # no temporary files left


async def test_a_prompt_text_cannot_become_an_option(tmp_path: Path) -> None:
    key = await ensure_prompt(tmp_path, "--version", "en")
    assert (tmp_path / f"{key}.wav").stat().st_size > 1000
