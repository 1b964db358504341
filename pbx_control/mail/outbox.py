"""The outbox: features enqueue a mail in their own transaction; `sender.MailSender` delivers it.

A mail is stored (attachments as bytea) before anything is sent, so a relay that is down delays it
without losing it. `queue_state` is what GET /health reports about the queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import Invalid

# local@domain.tld: no spaces, no control characters, no second @, a dot in the domain.
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+")
MAX_ATTACHMENTS_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def valid_address(value: str) -> bool:
    """True for a plain mail address (what users.email and the outbox accept)."""
    return len(value) <= 254 and _ADDRESS.fullmatch(value) is not None and ".." not in value


def check_address(value: str, field: str = "to") -> str:
    if not isinstance(value, str) or not valid_address(value):
        raise Invalid(f"{field} is not a mail address")
    return value


def _check(subject: str, attachments: Sequence[Attachment]) -> None:
    if "\r" in subject or "\n" in subject or len(subject) > 998:
        raise Invalid("subject must be one line of at most 998 characters")
    total = 0
    for a in attachments:
        if not a.filename or any(c in a.filename for c in '\r\n"/\\\x00') or len(a.filename) > 200:
            raise Invalid("attachment filename is not valid")
        if _TOKEN.fullmatch(a.content_type) is None:
            raise Invalid("attachment content_type is not a MIME type")
        total += len(a.data)
    if total > MAX_ATTACHMENTS_BYTES:
        raise Invalid("attachments are too large")


async def enqueue(
    conn: Conn,
    *,
    organization_id: int,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[Attachment] = (),
) -> int:
    """Store a mail for sending and return its id. Raises Invalid (400) for an address that is not
    one, a subject with line breaks, or a bad attachment; nothing is stored then. Runs in the
    caller's transaction when there is one: the mail is sent only if that commits."""
    check_address(to)
    _check(subject, attachments)
    async with conn.transaction():
        mail_id: int = await conn.fetchval(
            "INSERT INTO mails (organization_id, to_address, subject, body_text) VALUES ($1, $2, $3, $4)"
            " RETURNING id",
            organization_id,
            to,
            subject,
            text,
        )
        if attachments:
            await conn.executemany(
                "INSERT INTO mail_attachments (mail_id, position, filename, content_type, data)"
                " VALUES ($1, $2, $3, $4, $5)",
                [(mail_id, i, a.filename, a.content_type, a.data) for i, a in enumerate(attachments)],
            )
    return mail_id


async def queue_state(db: Db) -> dict[str, Any]:
    """pending: not yet sent; oldest_pending_age_s: how long the oldest has waited; failing: pending
    mails whose last try failed (the relay refused or was not reached)."""
    row = await db.fetchrow(
        "SELECT count(*) AS pending, count(*) FILTER (WHERE last_error IS NOT NULL) AS failing,"
        " extract(epoch FROM now() - min(created_at))::float8 AS oldest"
        " FROM mails WHERE sent_at IS NULL"
    )
    assert row is not None
    return {
        "pending": int(row["pending"]),
        "failing": int(row["failing"]),
        "oldest_pending_age_s": round(row["oldest"], 1) if row["oldest"] is not None else None,
    }
