"""What a caller hears while the callee is away: one whole sentence in the callee's language.

"Anna Svensson är på möte till klockan 14.30" / "Anna Svensson is in a meeting until 2:30 PM".
Asterisk's own Swedish number and time saying is incomplete, so the sentence is spoken by espeak-ng
as a whole. The end time is said as a time (same day), a weekday (within a week) or a date; never
"tomorrow", because the prompt is made when the activity is set and heard later.

Each sentence has two forms: the text shown to people (API, logs) and the text given to espeak-ng,
which reads "14.30" as "fourteen point thirty" and "8:00" as "eight zero zero"; the spoken form
writes times the way espeak-ng says them right ("14:30", "8", "12 oh 5 AM").
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("sv", "en")
_PHRASES = {
    "sv": {
        "busy": "är upptagen",
        "meeting": "är på möte",
        "lunch": "är på lunch",
        "gone": "har gått för dagen",
    },
    "en": {
        "busy": "is busy",
        "meeting": "is in a meeting",
        "lunch": "is at lunch",
        "gone": "has left for the day",
    },
}
_FURTHER_NOTICE = {"sv": "tills vidare", "en": "until further notice"}
_BACK = {"sv": "och är tillbaka", "en": "and will be back"}
_WEEKDAYS = {
    "sv": ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
           "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}  # fmt: skip
# What may reach espeak-ng and a log line: letters of any script, digits, spaces, basic punctuation.
_UNSAFE = re.compile(r"[^\w .,:;!?'\-]", re.UNICODE)


def clean(text: str) -> str:
    """Drop control characters, quotes and markup; collapse whitespace (letters of any script stay)."""
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    return " ".join(_UNSAFE.sub(" ", text).split())


def _clock(t: datetime, language: str, spoken: bool) -> str:
    if language == "sv":
        if not spoken:
            return f"{t.hour}.{t.minute:02d}"
        return f"{t.hour}" if t.minute == 0 else f"{t.hour}:{t.minute:02d}"
    hour = t.hour % 12 or 12
    half = "AM" if t.hour < 12 else "PM"
    if not spoken:
        return f"{hour}:{t.minute:02d} {half}"
    if t.minute == 0:
        return f"{hour} {half}"
    if t.minute < 10:
        return f"{hour} oh {t.minute} {half}"
    return f"{hour}:{t.minute:02d} {half}"


def when_phrase(until: datetime, now: datetime, timezone: str, language: str, *, spoken: bool = False) -> str:
    """The end time as said after "until" / "back": "klockan 14.30", "fredag klockan 8.00",
    "den 3 december klockan 8.00" (sv); "2:30 PM", "Friday at 8:00 AM", "December 3 at 8:00 AM"."""
    tz = ZoneInfo(timezone)
    end, today = until.astimezone(tz), now.astimezone(tz)
    clock = _clock(end, language, spoken)
    days = (end.date() - today.date()).days
    if language == "sv":
        if days == 0:
            return f"klockan {clock}"
        if days < 7:
            return f"{_WEEKDAYS['sv'][end.weekday()]} klockan {clock}"
        return f"den {end.day} {_MONTHS['sv'][end.month - 1]} klockan {clock}"
    if days == 0:
        return clock
    if days < 7:
        return f"{_WEEKDAYS['en'][end.weekday()]} at {clock}"
    return f"{_MONTHS['en'][end.month - 1]} {end.day} at {clock}"


def until_phrase(
    until: datetime, now: datetime, timezone: str, language: str, *, spoken: bool = False
) -> str:
    word = "till" if language == "sv" else "until"
    return f"{word} {when_phrase(until, now, timezone, language, spoken=spoken)}"


def sentence(
    name: str,
    kind: str,
    until: datetime | None,
    now: datetime,
    *,
    language: str,
    timezone: str,
    custom_text: str | None = None,
    spoken: bool = False,
) -> str:
    """The announcement; custom activities use their own phrase (what follows the name).

    Gone for the day says when the user is back ("... och är tillbaka måndag klockan 8.00");
    an activity without an end time says "tills vidare" / "until further notice"."""
    lang = language if language in _PHRASES else "sv"
    if kind == "custom" and custom_text:
        phrase = clean(custom_text).rstrip(" .,;:!?")
    else:
        phrase = _PHRASES[lang].get(kind, "")
    parts = [clean(name), phrase]
    if until is None:
        parts.append(_FURTHER_NOTICE[lang])
    elif kind == "gone":
        when = when_phrase(until, now, timezone, lang, spoken=spoken)
        if lang == "en":
            when = ("on " if when[0].isalpha() else "at ") + when
        elif not when.startswith(("klockan", "den")):
            when = "på " + when  # "tillbaka på måndag klockan 8.00"
        parts.append(f"{_BACK[lang]} {when}")
    else:
        parts.append(until_phrase(until, now, timezone, lang, spoken=spoken))
    return " ".join(p for p in parts if p).rstrip(".") + "."
