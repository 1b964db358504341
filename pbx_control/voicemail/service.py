"""Visual voicemail's service: a box synchronised from Asterisk into the mirror (new messages named,
announced on the WebSocket and mailed), and the user's actions on a message, each through AMI.

`sync` is the one place the mirror changes: it asks Asterisk for the box (VoicemailBoxSummary),
compares with the mirror (box.diff) and writes the difference, one box at a time (a lock per box),
so a message is announced and mailed once, by whoever mirrors it first (INSERT ... ON CONFLICT DO
NOTHING). It runs when Asterisk says the box changed (MessageWaiting: a message left, listened to
through 001, deleted), after an action from the app, when the app lists the box, and after every
AMI (re)connect.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from pbx_control.ami import AmiClient, AmiError, EventPublisher
from pbx_control.directory.caller_names import caller_name
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.kernel.db import Conn
from pbx_control.kernel.errors import NotFound, Unavailable
from pbx_control.logs import get_logger
from pbx_control.mail.outbox import Attachment, enqueue, valid_address
from pbx_control.voicemail import asterisk, repository
from pbx_control.voicemail.box import NEW_FOLDERS, PLAYED, Box, Reported, diff
from pbx_control.voicemail.spool import Spool

log = get_logger("pbx_control.voicemail")

API_PREFIX = "/api/v1"
# A message older than its box's owner belongs to a previous owner of the extension: removed.
STALE_MARGIN = timedelta(seconds=10)
# Mail goes for messages first seen within this long after they arrived (not for a backlog found
# when the service first starts on an existing spool).
MAIL_WITHIN = timedelta(hours=1)


def message_out(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "folder": row["folder"],
        "played": row["folder"] == PLAYED,
        "caller_number": row["caller_number"],
        "caller_name": row["caller_name"],
        "received_at": row["received_at"],
        "duration_s": row["duration_s"],
        "audio_url": f"{API_PREFIX}/users/me/voicemail/messages/{row['id']}/audio",
    }


def event_message(row: asyncpg.Record) -> dict[str, Any]:
    """A message as the list shows it, for the events socket (times as JSON writes them)."""
    out = message_out(row)
    out["received_at"] = out["received_at"].astimezone(UTC).isoformat().replace("+00:00", "Z")
    return out


def file_name(row: asyncpg.Record | dict[str, Any], tz: str = "UTC") -> str:
    """voicemail-20261202-1931-from-1311.wav (in the organization's time zone)."""
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    when = row["received_at"].astimezone(zone).strftime("%Y%m%d-%H%M")
    number = "".join(c for c in (row["caller_number"] or "") if c.isdigit() or c == "+") or "unknown"
    return f"voicemail-{when}-from-{number}.wav"


def _subject(row: dict[str, Any], language: str) -> str:
    who = " ".join(
        p for p in (row["caller_name"], f"({row['caller_number']})" if row["caller_number"] else "") if p
    )
    if language == "en":
        return f"Voicemail from {who or 'an unknown caller'} ({row['duration_s']} s)"
    return f"Röstmeddelande från {who or 'okänd uppringare'} ({row['duration_s']} s)"


def _body(row: dict[str, Any], language: str, tz: str) -> str:
    try:
        when = row["received_at"].astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    except (KeyError, ValueError):
        when = row["received_at"].strftime("%Y-%m-%d %H:%M UTC")
    who = row["caller_name"] or row["caller_number"] or ("unknown" if language == "en" else "okänd")
    number = row["caller_number"] or "-"
    if language == "en":
        return (
            f"{who} ({number}) left you a message of {row['duration_s']} s at {when}."
            " The audio is attached.\n"
        )
    return f"{who} ({number}) lämnade ett meddelande på {row['duration_s']} s {when}. Ljudet är bifogat.\n"


@dataclass
class Voicemail:
    pool: asyncpg.Pool
    spool: Spool
    ami: AmiClient | None = None
    events: EventPublisher | None = None
    clock: Clock = system_clock
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    # -- reading ---------------------------------------------------------------------------------

    def _ami(self) -> AmiClient:
        if self.ami is None or not self.ami.connected:
            raise Unavailable(
                "voicemail is not reachable now (no AMI connection to Asterisk)", "voicemail_unavailable"
            )
        return self.ami

    async def listing(self, org_id: int, user_id: int) -> tuple[list[asyncpg.Record], bool]:
        """The user's messages, newest first, and whether Asterisk was asked now (else: the mirror
        as last seen)."""
        row = await repository.owner(self.pool, org_id, user_id)
        box = repository.box_of(row)
        if box is not None and self.ami is not None and self.ami.connected:
            try:
                await self.sync(box)
                return await repository.mirrored(self.pool, user_id), True
            except (AmiError, TimeoutError, Unavailable) as exc:
                log.warning("voicemail.sync_failed", box=box.name, error=str(exc))
        return await repository.mirrored(self.pool, user_id), False

    async def audio_path(
        self, org_id: int, user_id: int, message_id: int
    ) -> tuple[Path, asyncpg.Record, str]:
        owner = await repository.owner(self.pool, org_id, user_id)
        box = repository.box_of(owner)
        row = await repository.message(self.pool, org_id, user_id, message_id)
        if box is None:
            raise NotFound("message not found")
        path = await asyncio.to_thread(self.spool.audio, box, row["folder"], row["msg_id"])
        if path is None and self.ami is not None and self.ami.connected:
            await self.sync(box)  # moved through 001 meanwhile?
            row = await repository.message(self.pool, org_id, user_id, message_id)
            path = await asyncio.to_thread(self.spool.audio, box, row["folder"], row["msg_id"])
        if path is None:
            raise NotFound("the message's audio is gone")
        return path, row, owner["timezone"]

    # -- acting ----------------------------------------------------------------------------------

    async def _acted(
        self,
        org_id: int,
        user_id: int,
        message_id: int,
        act: Callable[[Box, asyncpg.Record], Awaitable[None]],
    ) -> Box:
        """Do `act` on the message through AMI; when Asterisk no longer has it where the mirror
        says (moved through 001 meanwhile), sync the box and try once more (gone: 404)."""
        owner = await repository.owner(self.pool, org_id, user_id)
        box = repository.box_of(owner)
        row = await repository.message(self.pool, org_id, user_id, message_id)
        if box is None:
            raise NotFound("message not found")
        self._ami()
        try:
            await act(box, row)
        except NotFound:
            await self.sync(box)
            await act(box, await repository.message(self.pool, org_id, user_id, message_id))
        await self.sync(box)
        return box

    async def mark(self, org_id: int, user_id: int, message_id: int, played: bool) -> asyncpg.Record:
        async def move(box: Box, row: asyncpg.Record) -> None:
            folder = row["folder"]
            if played and folder != PLAYED:
                await asterisk.move(self._ami(), box, folder, row["msg_id"], PLAYED)
            elif not played and folder == PLAYED:
                await asterisk.move(self._ami(), box, folder, row["msg_id"], "INBOX")

        await self._acted(org_id, user_id, message_id, move)
        return await repository.message(self.pool, org_id, user_id, message_id)

    async def delete(self, org_id: int, user_id: int, message_id: int) -> None:
        async def remove(box: Box, row: asyncpg.Record) -> None:
            await asterisk.remove(self._ami(), box, row["folder"], row["msg_id"])

        await self._acted(org_id, user_id, message_id, remove)

    # -- the mirror ------------------------------------------------------------------------------

    async def sync_named(self, name: str) -> None:
        """Sync a box Asterisk named (MessageWaiting's Mailbox); one we do not know is ignored."""
        box = Box.parse(name)
        if box is not None:
            await self.sync(box)

    async def sync(self, box: Box) -> list[Reported]:
        lock = self._locks.setdefault(box.name, asyncio.Lock())
        async with lock:
            return await self._sync(box)

    async def _sync(self, box: Box) -> list[Reported]:
        ami = self._ami()
        reported = await asterisk.summary(ami, box)
        owner = await repository.owner_of_box(self.pool, box)
        if owner is None:
            return reported
        for r in list(reported):
            when = r.received_at or await asyncio.to_thread(self.spool.origtime, box, r.folder, r.msg_id)
            if when is not None and when < owner["created_at"] - STALE_MARGIN:
                log.info("voicemail.stale_message_removed", box=box.name, msg_id=r.msg_id)
                try:
                    await asterisk.remove(ami, box, r.folder, r.msg_id)
                except NotFound:
                    pass
                reported.remove(r)
        known = {m["msg_id"]: m["folder"] for m in await repository.mirrored(self.pool, owner["id"])}
        by_id = {r.msg_id: r for r in reported}
        published: list[dict[str, Any]] = []
        async with self.pool.acquire() as conn:
            for change in diff(known, reported):
                async with conn.transaction():
                    event = await self._apply(
                        conn, owner, box, change.kind, change.msg_id, by_id.get(change.msg_id)
                    )
                if event is not None:
                    published.append(event)
        for event in published:
            if self.events is not None:
                self.events.publish(event)
        return reported

    async def _apply(
        self, conn: Conn, owner: asyncpg.Record, box: Box, kind: str, msg_id: str, r: Reported | None
    ) -> dict[str, Any] | None:
        base = {"organization": owner["slug"], "owner_user_id": owner["id"]}
        if kind == "removed":
            gone = await repository.forget(conn, owner["id"], msg_id)
            return (
                None
                if gone is None
                else {**base, "type": "voicemail.message_removed", "message": {"id": gone}}
            )
        assert r is not None
        if kind == "updated":
            row = await repository.set_folder(conn, owner["id"], msg_id, r.folder)
            return (
                None
                if row is None
                else {**base, "type": "voicemail.message_updated", "message": event_message(row)}
            )
        received = (
            r.received_at
            or await asyncio.to_thread(self.spool.origtime, box, r.folder, msg_id)
            or self.clock()
        )
        name = None
        if r.caller_number:
            name = await caller_name(conn, owner["slug"], owner["id"], r.caller_number)
        row = await repository.insert(
            conn,
            owner["organization_id"],
            owner["id"],
            msg_id,
            r.folder,
            r.caller_number,
            name or r.caller_name,
            received,
            r.duration_s,
        )
        if row is None:
            return None
        log.info("voicemail.message_arrived", box=box.name, message_id=row["id"], folder=r.folder)
        if r.folder in NEW_FOLDERS and owner["mail_enabled"] and received >= self.clock() - MAIL_WITHIN:
            await self._mail(conn, owner, box, dict(row))
        return {**base, "type": "voicemail.message_added", "message": event_message(row)}

    async def _mail(self, conn: Conn, owner: asyncpg.Record, box: Box, row: dict[str, Any]) -> None:
        to = owner["mail_to"] or owner["email"]
        if not to or not valid_address(to):
            log.warning("voicemail.mail_skipped", box=box.name, reason="no mail address")
            return
        path = await asyncio.to_thread(self.spool.audio, box, row["folder"], row["msg_id"])
        if path is None:
            log.warning("voicemail.mail_skipped", box=box.name, reason="audio not found")
            return
        data = await asyncio.to_thread(path.read_bytes)
        language = owner["language"] if owner["language"] in ("sv", "en") else "sv"
        mail_id = await enqueue(
            conn,
            organization_id=owner["organization_id"],
            to=to,
            subject=_subject(row, language),
            text=_body(row, language, owner["timezone"]),
            attachments=[Attachment(file_name(row, owner["timezone"]), "audio/wav", data)],
        )
        log.info("voicemail.mailed", box=box.name, message_id=row["id"], mail_id=mail_id)

    # -- removal ---------------------------------------------------------------------------------

    async def remove_older(self, box: Box, before: datetime, *, played_only: bool) -> int:
        """Remove the box's messages older than `before` (only played ones if `played_only`)."""
        ami = self._ami()
        removed = 0
        for r in await asterisk.summary(ami, box):
            if played_only and r.folder != PLAYED:
                continue
            when = r.received_at or await asyncio.to_thread(self.spool.origtime, box, r.folder, r.msg_id)
            if when is None or when > before:
                continue
            try:
                await asterisk.remove(ami, box, r.folder, r.msg_id)
                removed += 1
            except NotFound:
                continue
        await self.sync(box)
        return removed
