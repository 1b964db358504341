"""Importing a vCard or CSV file into a phonebook, with a report of every row not imported and why.

The file is read as a whole first (pbx_control.directory.vcard / csv_import, pure): a file that is
neither (empty, binary, a CSV without a name column) is Invalid and nothing changes. Each row is
then checked on its own (drafts.check, the same rules as the API); a broken row is reported with
its number (vCard: card number and line; CSV: the spreadsheet row) and never stops the others.
A row equal to a contact already in the book, or to an earlier row of the file (same name, case
ignored, and same numbers), is skipped and reported as a duplicate, so importing a file twice
does not double the book. The good rows go in by COPY, in one transaction.

Reading and checking a file is pure CPU work (seconds for a 5 MiB file), so it runs in a process
of its own (PARSING), never on the event loop that also answers calls, and before a database
connection is taken; a few imports at once at most, more are refused with 503 (busy). The rows
come back packed in chunks, each unpacked, checked against the book and copied in on its own, so
the loop is never held for long (nor are a hundred thousand objects made at once, whose garbage
collection would hold it too).
"""

from __future__ import annotations

import asyncio
import pickle
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pbx_control.directory import csv_import, vcard
from pbx_control.directory.contacts import MAX_BOOK_SIZE, book_size
from pbx_control.directory.drafts import Contact, ContactDraft, check
from pbx_control.directory.text import safe_display_name
from pbx_control.kernel.db import Conn, Db, transaction
from pbx_control.kernel.errors import Invalid
from pbx_control.kernel.offload import ProcessOffload
from pbx_control.logs import get_logger

log = get_logger("pbx_control.directory.imports")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
CHUNK = 500  # rows unpacked and copied in at a time: calls are answered in between
# One file parsed at a time, in a process of its own (a core at most), and a few more waiting;
# each holds its upload in memory.
PARSING = ProcessOffload(
    "contact-import",
    workers=1,
    max_pending=4,
    timeout_s=60.0,
    busy_message="too many imports at once; try again shortly",
)


@dataclass
class Row:
    row: int
    line: int | None
    draft: ContactDraft | None
    error: str | None = None


@dataclass
class ParsedFile:
    format: str  # "vcard" or "csv"
    dialect: str  # csv: google, outlook, exchange, generic; vcard: the VERSION seen first
    rows: list[Row]


class Checked(NamedTuple):
    """A row read and checked, with only what the database part and the report need."""

    row: int
    line: int | None
    readable: bool  # False: no contact could be read from it (`error` says why)
    name: str | None  # the name or company, safe to show in the report
    error: str | None  # why it cannot be imported
    contact: Contact | None  # None when it failed


@dataclass
class CheckedFile:
    format: str
    dialect: str
    rows: int
    chunks: list[bytes]  # the rows, CHUNK at a time, each a pickled list[Checked]

    def unpack(self) -> Iterator[list[Checked]]:
        for chunk in self.chunks:
            # Trusted: packed by read_file in our own child process, never by a client.
            yield pickle.loads(chunk)  # noqa: S301


@dataclass
class Report:
    format: str
    dialect: str
    book: str
    rows: int = 0
    imported: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "dialect": self.dialect,
            "book": self.book,
            "rows": self.rows,
            "imported": self.imported,
            "rejected": self.rejected,
            "skipped": self.skipped,
        }


def _vcard_version(text: str) -> str:
    for line in text.splitlines()[:50]:
        if line.upper().startswith("VERSION:"):
            return "vcard " + line.split(":", 1)[1].strip()[:8]
    return "vcard"


def parse_file(data: bytes) -> ParsedFile:
    """Every row of an uploaded contact file; Invalid if the file as a whole cannot be read."""
    if not data.strip():
        raise Invalid("the file is empty")
    text = csv_import.decode(data)
    if "\x00" in text:
        raise Invalid("the file is binary, not a vCard (.vcf) or CSV file")
    if vcard.looks_like_vcard(text):
        cards = vcard.parse(text)
        if not cards:
            raise Invalid("no vCard in the file")
        rows = [Row(c.row, c.line, c.draft, c.error) for c in cards]
        return ParsedFile("vcard", _vcard_version(text), rows)
    if text.lstrip()[:1] == "<":  # HTML, XML: not what any contact export writes
        raise Invalid("the file is neither a vCard (it must start with BEGIN:VCARD) nor CSV")
    parsed = csv_import.parse(text)
    rows = [Row(r.row, None, r.draft, r.error) for r in parsed.rows]
    return ParsedFile("csv", parsed.dialect, rows)


def read_file(data: bytes) -> CheckedFile:
    """parse_file, and every row checked (the same rules as the API). Pure: runs in PARSING."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise Invalid(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
    parsed = parse_file(data)
    rows = []
    for r in parsed.rows:
        if r.draft is None:
            rows.append(Checked(r.row, r.line, False, None, r.error, None))
            continue
        name = safe_display_name(r.draft.name or r.draft.company)
        try:
            rows.append(Checked(r.row, r.line, True, name, None, check(r.draft)))
        except Invalid as exc:
            rows.append(Checked(r.row, r.line, True, name, exc.message, None))
    chunks = [pickle.dumps(rows[i : i + CHUNK], pickle.HIGHEST_PROTOCOL) for i in range(0, len(rows), CHUNK)]
    return CheckedFile(parsed.format, parsed.dialect, len(rows), chunks)


def _key(contact: Contact) -> tuple[str, tuple[str, ...]]:
    return contact.name.casefold(), tuple(sorted(n for n, _ in contact.numbers))


def _where(row: Checked, reason: str) -> dict[str, Any]:
    return {"row": row.row, "line": row.line, "name": row.name, "reason": reason}


async def _existing_keys(conn: Conn, org_id: int, owner: int | None) -> set[tuple[str, tuple[str, ...]]]:
    records = await conn.fetch(
        """
        SELECT c.name, coalesce(array_agg(cn.number ORDER BY cn.number)
                                FILTER (WHERE cn.number IS NOT NULL), '{}') AS numbers
          FROM contacts c LEFT JOIN contact_numbers cn ON cn.contact_id = c.id
         WHERE c.organization_id = $1 AND c.owner_user_id IS NOT DISTINCT FROM $2
         GROUP BY c.id
        """,
        org_id,
        owner,
    )
    return {(r["name"].casefold(), tuple(r["numbers"])) for r in records}


async def _copy(conn: Conn, org_id: int, owner: int | None, contacts: list[Contact]) -> None:
    ids = await conn.fetchval(
        "SELECT array_agg(nextval(pg_get_serial_sequence('contacts', 'id'))) FROM generate_series(1, $1)",
        len(contacts),
    )
    await conn.copy_records_to_table(
        "contacts",
        columns=["id", "organization_id", "owner_user_id", "name", "company", "email", "note"],
        records=[
            (i, org_id, owner, c.name, c.company, c.email, c.note) for i, c in zip(ids, contacts, strict=True)
        ],
    )
    await conn.copy_records_to_table(
        "contact_numbers",
        columns=["contact_id", "organization_id", "owner_user_id", "position", "number", "label"],
        records=[
            (i, org_id, owner, pos, number, label)
            for i, c in zip(ids, contacts, strict=True)
            for pos, (number, label) in enumerate(c.numbers)
        ],
    )


async def import_contacts(db: Db, org_id: int, owner: int | None, data: bytes) -> dict[str, Any]:
    """Import `data` into the shared book (owner None) or `owner`'s personal book; the report."""
    parsed = await PARSING.run(read_file, data)
    report = Report(parsed.format, parsed.dialect, "shared" if owner is None else "personal")
    report.rows = parsed.rows
    async with transaction(db) as conn:
        # One import at a time per book: the size limit and the duplicate check stay true.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(7454005, hashtext($1))", f"{org_id}:{owner or 'shared'}"
        )
        existing = await _existing_keys(conn, org_id, owner)
        in_file: dict[tuple[str, tuple[str, ...]], int] = {}
        room = MAX_BOOK_SIZE - await book_size(conn, org_id, owner)
        for rows in parsed.unpack():
            good: list[Contact] = []
            for row in rows:
                taken = report.imported + len(good)
                if not row.readable:
                    report.rejected.append(_where(row, row.error or "unreadable"))
                    continue
                if taken >= MAX_ROWS:
                    report.rejected.append(_where(row, f"more than {MAX_ROWS} contacts in one file"))
                    continue
                contact = row.contact
                if contact is None:
                    report.rejected.append(_where(row, row.error or "invalid"))
                    continue
                key = _key(contact)
                if key in existing:
                    report.skipped.append(_where(row, "duplicate: already in the phonebook"))
                    continue
                if key in in_file:
                    report.skipped.append(_where(row, f"duplicate of row {in_file[key]}"))
                    continue
                if taken >= room:
                    report.rejected.append(_where(row, f"the phonebook is full ({MAX_BOOK_SIZE})"))
                    continue
                in_file[key] = row.row
                good.append(contact)
            if good:
                await _copy(conn, org_id, owner, good)
                report.imported += len(good)
            else:
                await asyncio.sleep(0)  # calls first
    log.info(
        "contacts_imported",
        organization_id=org_id,
        book=report.book,
        format=report.format,
        imported=report.imported,
        rejected=len(report.rejected),
        skipped=len(report.skipped),
    )
    return report.to_dict()
