"""The invitation to a meeting: what to dial and the PIN, as text in Swedish and English and as
an iCalendar file. Pure functions of the meeting and the dial-in numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# The internal dial-in: every organization's phones dial this to reach its meetings.
DIAL_IN_EXTENSION = "*80"


@dataclass(frozen=True)
class Invite:
    meeting_id: int
    name: str
    pin: str
    starts_at: datetime | None
    ends_at: datetime | None
    organization: str
    timezone: str
    outside_number: str | None  # E.164, when the organization has one for meetings


def _when(invite: Invite, lang: str) -> str | None:
    if invite.starts_at is None:
        return None
    local = invite.starts_at.astimezone(ZoneInfo(invite.timezone))
    if lang == "sv":
        return local.strftime("%Y-%m-%d kl. %H:%M")
    return local.strftime("%Y-%m-%d at %H:%M")


def text(invite: Invite, lang: str) -> str:
    """The invitation in 'sv' or 'en', ready to send."""
    when = _when(invite, lang)
    if lang == "sv":
        lines = [f'Du är inbjuden till mötet "{invite.name}" ({invite.organization}).']
        if when:
            lines.append(f"Tid: {when}")
        lines.append(f"Ring internt: {DIAL_IN_EXTENSION}")
        if invite.outside_number:
            lines.append(f"Ring utifrån: {invite.outside_number}")
        lines.append(f"PIN-kod: {invite.pin} följt av #")
        return "\n".join(lines)
    lines = [f'You are invited to the meeting "{invite.name}" ({invite.organization}).']
    if when:
        lines.append(f"When: {when}")
    lines.append(f"Dial internally: {DIAL_IN_EXTENSION}")
    if invite.outside_number:
        lines.append(f"Dial from outside: {invite.outside_number}")
    lines.append(f"PIN: {invite.pin} followed by #")
    return "\n".join(lines)


def _ics_escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r", "")
        .replace("\n", "\\n")
    )


def _ics_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """RFC 5545: lines longer than 75 octets continue on the next line after a space."""
    out: list[str] = []
    raw = line.encode()
    while len(raw) > 75:
        cut = 75 if not out else 74
        while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 character
            cut -= 1
        out.append(raw[:cut].decode())
        raw = raw[cut:]
    out.append(raw.decode())
    return "\r\n ".join(out)


def ics(invite: Invite, now: datetime, domain: str = "pbx-control") -> str:
    """An iCalendar (RFC 5545) VEVENT; without a start time the event starts now and lasts an hour."""
    start = invite.starts_at or now
    end = invite.ends_at or start + timedelta(hours=1)
    location = DIAL_IN_EXTENSION + (f" / {invite.outside_number}" if invite.outside_number else "")
    description = text(invite, "sv") + "\n\n" + text(invite, "en")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//pbx-control//meetings//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:meeting-{invite.meeting_id}@{domain}",
        f"DTSTAMP:{_ics_time(now)}",
        f"DTSTART:{_ics_time(start)}",
        f"DTEND:{_ics_time(end)}",
        f"SUMMARY:{_ics_escape(invite.name)}",
        f"LOCATION:{_ics_escape(location)}",
        f"DESCRIPTION:{_ics_escape(description)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
