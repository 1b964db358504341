"""Visual voicemail's pure parts as tables: what Asterisk reports of a box (VoicemailBoxDetail),
what changed since the mirror, HTTP byte ranges of a message's audio, file names, greetings text."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pbx_control.voicemail.audio import RangeNotSatisfiable, byte_range
from pbx_control.voicemail.box import Box, Change, Reported, diff, parse_callerid, parse_date, parse_detail
from pbx_control.voicemail.greeting import sentence
from pbx_control.voicemail.service import file_name
from pbx_control.voicemail.spool import Spool

pytestmark = [pytest.mark.unit, pytest.mark.voicemail]


@pytest.mark.parametrize(
    ("callerid", "number", "name"),
    [
        ('"Anna Svensson" <1001>', "1001", "Anna Svensson"),
        ("Anna <+46701234567>", "+46701234567", "Anna"),
        ("<0701234567>", "0701234567", None),
        ('"1001" <1001>', "1001", None),  # the number as its own name: no name
        ("Unknown", None, None),
        ('"Anonymous" <anonymous>', None, None),
        ("", None, None),
        ("1001", "1001", None),
        ('"Evil\r\nName" <10;01>', None, "Evil\r\nName"),  # a number that is not one is dropped
    ],
)
def test_caller_ids(callerid: str, number: str | None, name: str | None) -> None:
    assert parse_callerid(callerid) == (number, name)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed Dec  2 06:31:51 PM UTC 2026", datetime(2026, 12, 2, 18, 31, 51, tzinfo=UTC)),
        ("Thu Jan 01 12:00:00 AM UTC 2026", datetime(2026, 1, 1, 0, 0, tzinfo=UTC)),
        ("Sun Mar 29 01:59:59 AM UTC 2026", datetime(2026, 3, 29, 1, 59, 59, tzinfo=UTC)),
        ("garbage", None),
        ("", None),
    ],
)
def test_dates(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


def test_a_detail_event_and_what_is_not_a_message() -> None:
    ok = {
        "Folder": "INBOX",
        "CallerID": '"Anna" <1001>',
        "Date": "Wed Dec  2 06:31:51 PM UTC 2026",
        "Duration": "7",
        "ID": "1796237230-0000000a",
    }
    assert parse_detail(ok) == Reported(
        "1796237230-0000000a", "INBOX", "1001", "Anna", datetime(2026, 12, 2, 18, 31, 51, tzinfo=UTC), 7
    )
    assert parse_detail({**ok, "ID": "../../etc"}) is None
    assert parse_detail({**ok, "Folder": "../INBOX"}) is None
    unreadable_duration = parse_detail({**ok, "Duration": "x"})
    assert unreadable_duration is not None and unreadable_duration.duration_s == 0


def _r(msg_id: str, folder: str) -> Reported:
    return Reported(msg_id, folder, None, None, None, 1)


@pytest.mark.parametrize(
    ("known", "reported", "changes"),
    [
        ({}, [], []),
        ({}, [_r("1-00000001", "INBOX")], [Change("added", "1-00000001")]),
        (
            {"1-00000001": "INBOX"},
            [_r("1-00000001", "Old")],
            [Change("updated", "1-00000001")],
        ),  # played via 001
        ({"1-00000001": "INBOX"}, [_r("1-00000001", "INBOX")], []),
        ({"1-00000001": "Old"}, [], [Change("removed", "1-00000001")]),
        (
            {"1-00000001": "INBOX", "2-00000002": "Old"},
            [_r("2-00000002", "INBOX"), _r("3-00000003", "INBOX")],
            [Change("added", "3-00000003"), Change("updated", "2-00000002"), Change("removed", "1-00000001")],
        ),
    ],
)
def test_what_changed(known: dict[str, str], reported: list[Reported], changes: list[Change]) -> None:
    assert diff(known, reported) == changes


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        (None, 100, None),
        ("bytes=0-9", 100, (0, 9)),
        ("bytes=90-", 100, (90, 99)),
        ("bytes=90-500", 100, (90, 99)),  # the end is clamped
        ("bytes=-10", 100, (90, 99)),
        ("bytes=-500", 100, (0, 99)),
        ("bytes=99-99", 100, (99, 99)),
        ("bytes=9-0", 100, None),  # invalid: ignored, the whole file
        ("bytes=0-1,5-6", 100, None),  # several ranges: the whole file
        ("items=0-1", 100, None),
        ("bytes=-", 100, None),
        ("bytes=100-", 100, RangeNotSatisfiable),
        ("bytes=5000-6000", 100, RangeNotSatisfiable),
        ("bytes=-0", 100, RangeNotSatisfiable),
        ("bytes=0-", 0, RangeNotSatisfiable),
    ],
)
def test_byte_ranges(header: str | None, size: int, expected: object) -> None:
    if expected is RangeNotSatisfiable:
        with pytest.raises(RangeNotSatisfiable):
            byte_range(header, size)
    else:
        assert byte_range(header, size) == expected


def test_download_names_are_local_time_and_the_callers_number() -> None:
    row = {"received_at": datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "caller_number": "+46701234567"}
    assert file_name(row, "Europe/Stockholm") == "voicemail-20270101-0030-from-+46701234567.wav"
    assert file_name({**row, "caller_number": None}) == "voicemail-20261231-2330-from-unknown.wav"


def test_boxes_and_the_default_greeting() -> None:
    assert Box.parse("1001@acme") == Box("acme", "1001")
    assert Box.parse("1001@acme,evil") is None and Box.parse("x@acme") is None and Box.parse("") is None
    assert sentence("Anna Svensson", "sv").startswith("Du har kommit till Anna Svensson.")
    assert sentence("Anna\nSvensson", "en").startswith("You have reached Anna Svensson.")


def test_the_boxes_with_messages_are_found_in_one_walk_over_the_spool(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for box, name in (
        ("acme/1001/INBOX", "msg0000.txt"),
        ("acme/1002/Old", "msg0003.txt"),
        ("acme/1003/INBOX", "msg0000.wav"),  # audio without its text file: not a message
        ("acme/1004/tmp", "msg0000.txt"),  # not a folder of app_voicemail's
        ("beta/1001/Urgent", "msg0001.txt"),
    ):
        (tmp_path / box).mkdir(parents=True)
        (tmp_path / box / name).write_text("[message]\n")
    (tmp_path / "acme" / "1005").mkdir()
    (tmp_path / "acme" / "1005" / "unavail.wav").write_bytes(b"RIFF")  # a greeting only
    assert spool.boxes_with_messages() == {"1001@acme", "1002@acme", "1001@beta"}
    assert Spool(tmp_path / "missing").boxes_with_messages() == set()
