"""The sender: hands due mails from the outbox to the SMTP relay (aiosmtplib), one at a time.

A mail the relay did not take stays in the outbox with its error and is tried again after a
backoff that doubles per attempt (base_backoff_s .. max_backoff_s); nothing is ever dropped. Each
mail is locked (FOR UPDATE SKIP LOCKED) while it is sent, so two processes never send it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib
import asyncpg

from pbx_control.kernel.periodic import PeriodicWorker
from pbx_control.logs import get_logger

log = get_logger("pbx_control.mail")
TLS_MODES = ("none", "starttls", "tls")


@dataclass(frozen=True)
class Relay:
    host: str
    port: int = 25
    tls: str = "none"
    username: str = ""
    password: str = ""
    sender: str = "pbx@localhost"
    timeout_s: float = 15.0


def build_message(relay: Relay, row: asyncpg.Record, attachments: list[asyncpg.Record]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = relay.sender
    msg["To"] = row["to_address"]
    msg["Subject"] = row["subject"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=relay.sender.rpartition("@")[2] or None)
    msg.set_content(row["body_text"])
    for a in attachments:
        maintype, _, subtype = a["content_type"].partition("/")
        msg.add_attachment(bytes(a["data"]), maintype=maintype, subtype=subtype, filename=a["filename"])
    return msg


class MailSender(PeriodicWorker):
    name = "mail_sender"

    def __init__(
        self,
        pool: asyncpg.Pool,
        relay: Relay,
        *,
        interval_s: float = 2.0,
        base_backoff_s: float = 10.0,
        max_backoff_s: float = 900.0,
        batch: int = 50,
    ) -> None:
        super().__init__(interval_s)
        self._pool = pool
        self._relay = relay
        self._base = base_backoff_s
        self._max = max_backoff_s
        self._batch = batch

    async def run_once(self) -> int:
        """Send what is due; return how many were sent. Stops at the first failure (the relay is
        likely down for the rest too); the next round tries again."""
        if not self._relay.host:
            return 0
        sent = 0
        for _ in range(self._batch):
            outcome = await self._send_one()
            if outcome is None:
                break
            if not outcome:
                break
            sent += 1
        return sent

    async def _send_one(self) -> bool | None:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT id, to_address, subject, body_text, attempts FROM mails"
                " WHERE sent_at IS NULL AND next_try_at <= now()"
                " ORDER BY next_try_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            )
            if row is None:
                return None
            attachments = await conn.fetch(
                "SELECT filename, content_type, data FROM mail_attachments WHERE mail_id = $1"
                " ORDER BY position",
                row["id"],
            )
            r = self._relay
            try:
                await aiosmtplib.send(
                    build_message(r, row, list(attachments)),
                    hostname=r.host,
                    port=r.port,
                    use_tls=r.tls == "tls",
                    start_tls=r.tls == "starttls",
                    username=r.username or None,
                    password=r.password or None,
                    timeout=r.timeout_s,
                )
            except Exception as exc:
                attempts = row["attempts"] + 1
                delay = min(self._max, self._base * 2 ** min(attempts - 1, 20))
                await conn.execute(
                    "UPDATE mails SET attempts = $2, last_error = $3,"
                    " next_try_at = now() + make_interval(secs => $4) WHERE id = $1",
                    row["id"],
                    attempts,
                    f"{type(exc).__name__}: {exc}"[:500],
                    delay,
                )
                log.warning(
                    "mail.send_failed",
                    mail_id=row["id"],
                    attempts=attempts,
                    retry_in_s=delay,
                    error=type(exc).__name__,
                )
                return False
            await conn.execute(
                "UPDATE mails SET sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1",
                row["id"],
            )
            await conn.execute("DELETE FROM mail_attachments WHERE mail_id = $1", row["id"])
            log.info("mail.sent", mail_id=row["id"], attempts=row["attempts"] + 1)
            return True
