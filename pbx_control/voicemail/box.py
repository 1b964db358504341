"""A box as Asterisk reports it (AMI VoicemailBoxSummary), parsed; pure functions, tested as tables.

A box is `<extension>@<organization slug>`. Folders are app_voicemail's: INBOX (new), Old (played),
Urgent (new, urgent), and the folders a user may save to through 001 (Work, Family, Friends...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from pbx_control.kernel import ids

# app_voicemail's msg_id: "<unix time>-<counter as 8 hex digits>" (generate_msg_id).
MSG_ID = re.compile(r"[0-9]{1,20}-[0-9a-f]{8}")
NEW_FOLDERS = ("INBOX", "Urgent")
PLAYED = "Old"
FOLDERS = ("INBOX", "Old", "Work", "Family", "Friends", "Cust1", "Cust2", "Cust3", "Cust4", "Cust5", "Urgent")
_CALLERID = re.compile(r'^\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^<]*?))\s*<(?P<number>[^>]*)>\s*$')
# origdate as app_voicemail writes it: "%a %b %e %r UTC %Y", e.g. "Wed Dec  2 06:31:51 PM UTC 2026"
_DATE_FORMATS = ("%a %b %d %I:%M:%S %p UTC %Y", "%a %b %d %H:%M:%S UTC %Y")


@dataclass(frozen=True)
class Box:
    context: str  # the organization's slug
    mailbox: str  # the extension

    def __post_init__(self) -> None:
        if not ids.is_slug(self.context) or not ids.is_extension(self.mailbox):
            raise ValueError(f"not a box: {self.mailbox}@{self.context}")

    @property
    def name(self) -> str:
        return f"{self.mailbox}@{self.context}"

    @classmethod
    def parse(cls, text: str) -> Box | None:
        mailbox, _, context = text.partition("@")
        try:
            return cls(context, mailbox)
        except ValueError:
            return None


@dataclass(frozen=True)
class Reported:
    """One message as Asterisk reports it."""

    msg_id: str
    folder: str
    caller_number: str | None
    caller_name: str | None
    received_at: datetime | None  # None: a date we could not read (the spool's origtime is used)
    duration_s: int

    @property
    def played(self) -> bool:
        return self.folder == PLAYED


def parse_callerid(text: str) -> tuple[str | None, str | None]:
    """'"Anna Svensson" <1001>' -> ("1001", "Anna Svensson"); "Unknown" / "" -> (None, None)."""
    m = _CALLERID.match(text or "")
    if m is None:
        bare = (text or "").strip()
        return (bare, None) if re.fullmatch(r"\+?[0-9*#]{1,32}", bare) else (None, None)
    number = m.group("number").strip() or None
    name = (m.group("quoted") if m.group("quoted") is not None else m.group("bare") or "").strip() or None
    if number is not None and not re.fullmatch(r"\+?[0-9*#]{1,32}", number):
        number = None
    if name is not None and (name == number or name.lower() in ("unknown", "anonymous")):
        name = None
    return number, name


def parse_date(text: str) -> datetime | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(" ".join((text or "").split()), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def parse_detail(event: dict[str, str]) -> Reported | None:
    """A VoicemailBoxDetail event; None for one that is not a message we can name."""
    msg_id = str(event.get("ID", ""))
    folder = str(event.get("Folder", ""))
    if not MSG_ID.fullmatch(msg_id) or folder not in FOLDERS:
        return None
    number, name = parse_callerid(str(event.get("CallerID", "")))
    try:
        duration = max(0, int(str(event.get("Duration", "0")) or 0))
    except ValueError:
        duration = 0
    return Reported(msg_id, folder, number, name, parse_date(str(event.get("Date", ""))), duration)


@dataclass(frozen=True)
class Change:
    kind: str  # added | updated | removed
    msg_id: str


def diff(known: dict[str, str], reported: list[Reported]) -> list[Change]:
    """What changed from `known` (msg_id -> folder, as mirrored) to what Asterisk reports now."""
    now = {r.msg_id: r.folder for r in reported}
    out = [Change("added", m) for m in now if m not in known]
    out += [Change("updated", m) for m, f in now.items() if m in known and known[m] != f]
    out += [Change("removed", m) for m in known if m not in now]
    return out
