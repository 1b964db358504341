"""The opaque paging cursor of GET .../history: where the previous page ended (started_at, id)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

from pbx_control.kernel.errors import Invalid

_PREFIX = "h1"


def encode(started_at: datetime, row_id: int) -> str:
    raw = f"{_PREFIX}|{started_at.astimezone(UTC).isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int]:
    """The position a cursor names; anything we did not make is Invalid (400)."""
    if not cursor or len(cursor) > 200 or not cursor.isascii():
        raise Invalid("cursor is not one this API gave")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, when, row_id = raw.split("|")
        at = datetime.fromisoformat(when)
        number = int(row_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor is not one this API gave") from None
    if prefix != _PREFIX or at.tzinfo is None or not 1 <= number < 2**63:
        raise Invalid("cursor is not one this API gave")
    return at, number
