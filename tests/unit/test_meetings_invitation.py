"""The invitation text in Swedish and English and its iCalendar file, as tables
(pbx_control/meetings/invitation.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pbx_control.meetings.invitation import Invite, ics, text

pytestmark = [pytest.mark.unit, pytest.mark.meetings]

AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)  # 10:30 in Stockholm


def _invite(starts: datetime | None, outside: str | None, name: str = "Veckomöte") -> Invite:
    return Invite(7, name, "482913", starts, None, "Alpha AB", "Europe/Stockholm", outside)


TEXTS = [
    (
        _invite(AT, "+46812345678"),
        "sv",
        'Du är inbjuden till mötet "Veckomöte" (Alpha AB).\nTid: 2026-12-03 kl. 10:30\n'
        "Ring internt: *80\nRing utifrån: +46812345678\nPIN-kod: 482913 följt av #",
    ),
    (
        _invite(AT, "+46812345678"),
        "en",
        'You are invited to the meeting "Veckomöte" (Alpha AB).\nWhen: 2026-12-03 at 10:30\n'
        "Dial internally: *80\nDial from outside: +46812345678\nPIN: 482913 followed by #",
    ),
    (
        _invite(None, None),
        "sv",
        'Du är inbjuden till mötet "Veckomöte" (Alpha AB).\nRing internt: *80\nPIN-kod: 482913 följt av #',
    ),
    (
        _invite(None, None),
        "en",
        'You are invited to the meeting "Veckomöte" (Alpha AB).\n'
        "Dial internally: *80\nPIN: 482913 followed by #",
    ),
]


@pytest.mark.parametrize(("invite", "lang", "want"), TEXTS)
def test_invitation_text(invite: Invite, lang: str, want: str) -> None:
    assert text(invite, lang) == want


def _unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


ICS = [
    # starts_at, now, DTSTART, DTEND
    (AT, datetime(2026, 12, 1, tzinfo=UTC), "20261203T093000Z", "20261203T103000Z"),
    (None, datetime(2026, 12, 1, 8, tzinfo=UTC), "20261201T080000Z", "20261201T090000Z"),
]


@pytest.mark.parametrize(("starts", "now", "dtstart", "dtend"), ICS)
def test_ics_event_times_and_folding(
    starts: datetime | None, now: datetime, dtstart: str, dtend: str
) -> None:
    body = ics(_invite(starts, "+46812345678", name="Plan; review, Q1 " + "x" * 80), now)
    assert body.endswith("\r\n") and all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and "END:VCALENDAR" in lines
    assert f"DTSTART:{dtstart}" in lines and f"DTEND:{dtend}" in lines
    assert "UID:meeting-7@pbx-control" in lines
    assert "SUMMARY:Plan\\; review\\, Q1 " + "x" * 80 in lines
    assert "LOCATION:*80 / +46812345678" in lines
    desc = next(line for line in lines if line.startswith("DESCRIPTION:"))
    assert "PIN-kod: 482913" in desc and "PIN: 482913" in desc and "\n" not in desc
