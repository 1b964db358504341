from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from pbx_control.history import cursor
from pbx_control.kernel.errors import Invalid

pytestmark = [pytest.mark.unit, pytest.mark.history]


def test_a_cursor_round_trips() -> None:
    at = datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=UTC)
    assert cursor.decode(cursor.encode(at, 42)) == (at, 42)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "!!!",
        "é",
        "a" * 201,
        base64.urlsafe_b64encode(b"h2|2026-01-01T00:00:00+00:00|1").decode(),
        base64.urlsafe_b64encode(b"h1|2026-01-01T00:00:00|1").decode(),  # no time zone
        base64.urlsafe_b64encode(b"h1|2026-01-01T00:00:00+00:00|0").decode(),
        base64.urlsafe_b64encode(b"h1|2026-01-01T00:00:00+00:00|-1").decode(),
        base64.urlsafe_b64encode(b"h1|yesterday|1").decode(),
        base64.urlsafe_b64encode(b"h1|2026-01-01T00:00:00+00:00").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_we_did_not_make_is_invalid(bad: str) -> None:
    with pytest.raises(Invalid):
        cursor.decode(bad)
