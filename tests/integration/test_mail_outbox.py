"""The mail outbox against a real SMTP server (aiosmtpd) the tests start: a mail with an attachment
arrives; a relay that is down delays mail without losing it; a bad address is refused (400)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiosmtpd.controller import Controller

from pbx_control.config import Settings
from pbx_control.kernel.errors import Invalid
from pbx_control.mail.outbox import Attachment, enqueue, queue_state
from pbx_control.mail.sender import MailSender, Relay
from pbx_control.testing import World
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.mail]


class _Inbox:
    """aiosmtpd handler: keeps every message it is given, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.rcpts: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.rcpts.append(list(envelope.rcpt_tos))
        return "250 OK"


class _Smtp:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = _Inbox()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[_Smtp]:
    server = _Smtp(free_port())
    try:
        yield server
    finally:
        server.stop()


async def _wait_for(cond: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_a_mail_with_an_attachment_arrives(db_pool: asyncpg.Pool, world: World, smtp: _Smtp) -> None:
    smtp.start()
    audio = bytes(range(256)) * 40
    async with db_pool.acquire() as conn:
        mail_id = await enqueue(
            conn,
            organization_id=world.orgs["alpha"],
            to="anna@example.com",
            subject="Röstmeddelande från 0701234567",
            text="Hej Anna,\nett nytt meddelande.",
            attachments=[Attachment("msg0000.wav", "audio/wav", audio)],
        )
    assert (await queue_state(db_pool))["pending"] == 1
    sender = MailSender(db_pool, Relay("127.0.0.1", smtp.port, sender="pbx@example.net"))
    assert await sender.run_once() == 1
    (msg,) = smtp.inbox.messages
    assert smtp.inbox.rcpts == [["anna@example.com"]]
    assert msg["Subject"] == "Röstmeddelande från 0701234567" and msg["From"] == "pbx@example.net"
    body = msg.get_body(("plain",))
    assert body is not None and "ett nytt meddelande" in body.get_content()
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "msg0000.wav" and att.get_content_type() == "audio/wav"
    assert att.get_content() == audio
    row = await db_pool.fetchrow("SELECT sent_at, attempts FROM mails WHERE id = $1", mail_id)
    assert row is not None
    assert row["sent_at"] is not None and row["attempts"] == 1
    assert await db_pool.fetchval("SELECT count(*) FROM mail_attachments") == 0
    assert await queue_state(db_pool) == {"pending": 0, "failing": 0, "oldest_pending_age_s": None}
    assert await sender.run_once() == 0 and len(smtp.inbox.messages) == 1  # sent once


async def test_relay_down_mail_waits_and_arrives_when_it_comes_up(
    db_pool: asyncpg.Pool, world: World, smtp: _Smtp
) -> None:
    """The worker's own loop: the relay refuses connections, the mail stays queued and failing with
    its attempts counted; once the relay listens, the retry delivers it, once."""
    sender = MailSender(
        db_pool, Relay("127.0.0.1", smtp.port, timeout_s=2), interval_s=0.05, base_backoff_s=0.2
    )
    async with db_pool.acquire() as conn:
        await enqueue(conn, organization_id=world.orgs["alpha"], to="bo@example.com", subject="s", text="t")
    await sender.start()
    try:

        async def failed_twice() -> bool:
            return bool(await db_pool.fetchval("SELECT attempts >= 2 FROM mails"))

        await _wait_for(failed_twice)
        state = await queue_state(db_pool)
        assert state["pending"] == 1 and state["failing"] == 1 and state["oldest_pending_age_s"] >= 0
        row = await db_pool.fetchrow("SELECT last_error, next_try_at > now() AS later FROM mails")
        assert row is not None
        assert row["last_error"] and smtp.inbox.messages == []
        smtp.start()

        async def arrived() -> bool:
            return len(smtp.inbox.messages) == 1

        await _wait_for(arrived)
        await asyncio.sleep(0.3)  # a few more rounds: nothing is sent twice
        assert len(smtp.inbox.messages) == 1 and smtp.inbox.rcpts == [["bo@example.com"]]
        assert await queue_state(db_pool) == {"pending": 0, "failing": 0, "oldest_pending_age_s": None}
    finally:
        await sender.stop()


@pytest.mark.parametrize(
    "to",
    ["", "anna", "anna@", "@example.com", "anna@example", "a b@example.com", "a@example.com\r\nBcc: x@y.z"],
)
async def test_an_address_that_is_not_one_is_refused(db_pool: asyncpg.Pool, world: World, to: str) -> None:
    async with db_pool.acquire() as conn:
        with pytest.raises(Invalid, match="not a mail address"):
            await enqueue(conn, organization_id=world.orgs["alpha"], to=to, subject="s", text="t")
        with pytest.raises(Invalid):
            await enqueue(
                conn, organization_id=world.orgs["alpha"], to="ok@example.com", subject="a\nBcc: x", text="t"
            )
    assert await db_pool.fetchval("SELECT count(*) FROM mails") == 0


async def test_the_service_sends_and_health_reports_the_queue(
    db_url: str, db_pool: asyncpg.Pool, world: World, smtp: _Smtp, tmp_path: Path
) -> None:
    from pbx_control.service import ControlService

    (tmp_path / "etc").mkdir()
    settings = Settings(
        database_url=db_url,
        api_port=free_port(),
        components=("api",),
        asterisk_etc=tmp_path / "etc",
        prompts_dir=tmp_path / "prompts",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        smtp_from="pbx@example.net",
    )
    async with db_pool.acquire() as conn:
        await enqueue(conn, organization_id=world.orgs["beta"], to="cy@example.com", subject="s", text="t")
    svc = ControlService(settings)
    await svc.start()
    try:
        url = f"http://127.0.0.1:{settings.api_port}/api/v1/health"
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as resp:
                body = await resp.json()
            # the relay is down: queued and failing, the service itself stays healthy
            assert resp.status == 200 and body["mail"]["relay_configured"] is True
            assert body["mail"]["pending"] == 1

            async def failing() -> bool:
                async with http.get(url) as r:
                    return bool((await r.json())["mail"]["failing"] == 1)

            await _wait_for(failing)
            smtp.start()
            await db_pool.execute("UPDATE mails SET next_try_at = now()")  # skip the 10 s backoff

            async def arrived() -> bool:
                return len(smtp.inbox.messages) == 1

            await _wait_for(arrived)
            async with http.get(url) as resp:
                body = await resp.json()
            assert body["mail"] == {
                "relay_configured": True,
                "pending": 0,
                "failing": 0,
                "oldest_pending_age_s": None,
            }
    finally:
        await svc.stop()
