"""A contact as typed or imported (ContactDraft) and its checked form (Contact). Pure.

One `check` serves the API and both importers, so a row rejected by an import and a request refused
with 400 give the same reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pbx_control.directory import numbers as nums
from pbx_control.directory.text import nfc
from pbx_control.kernel.errors import Invalid
from pbx_control.tenancy import validation as v

MAX_NUMBERS = 20
MAX_NAME = 200
MAX_COMPANY = 200
MAX_NOTE = 2000


@dataclass
class ContactDraft:
    """Unchecked fields; numbers are (raw number, raw label) pairs."""

    name: str | None = None
    company: str | None = None
    email: str | None = None
    note: str | None = None
    numbers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Contact:
    name: str
    company: str | None
    email: str | None
    note: str | None
    numbers: tuple[tuple[str, str], ...]  # (stored number, label), duplicates removed


def _optional_text(value: str | None, what: str, max_len: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{what} must be a string")
    text = nfc(value.strip())
    if not text:
        return None
    if len(text) > max_len:
        raise Invalid(f"{what} must be at most {max_len} characters")
    if "\x00" in text:
        raise Invalid(f"{what} must not contain NUL characters")
    return text


def draft_from(fields: Mapping[str, Any]) -> ContactDraft:
    """A draft from the API's shape: numbers as [{"number", "label"}] (None: no numbers)."""
    return ContactDraft(
        name=fields.get("name"),
        company=fields.get("company"),
        email=fields.get("email"),
        note=fields.get("note"),
        numbers=[(n["number"], n.get("label") or "") for n in fields.get("numbers") or []],
    )


def check(draft: ContactDraft, default_country_code: str = nums.DEFAULT_COUNTRY_CODE) -> Contact:
    """The contact to store, or Invalid naming the first problem.

    Without a name, the company is the name (a switchboard entry); without either: "no name".
    Every number must be valid: a row with one malformed number is refused rather than imported
    with a number silently missing.
    """
    company = _optional_text(draft.company, "company", MAX_COMPANY)
    name = _optional_text(draft.name, "name", MAX_NAME) or company
    if not name:
        raise Invalid("no name (neither a name nor a company)")
    name = " ".join(v.name(name).split())  # one line: newlines and tabs become spaces
    email = v.email(draft.email)
    note = _optional_text(draft.note, "note", MAX_NOTE)
    if note is not None:
        note = note.replace("\r\n", "\n").replace("\r", "\n")
    if len(draft.numbers) > MAX_NUMBERS:
        raise Invalid(f"at most {MAX_NUMBERS} numbers per contact")
    checked: list[tuple[str, str]] = []
    seen: set[str] = set()
    for raw, raw_label in draft.numbers:
        try:
            number = nums.contact_number(raw, default_country_code)
        except Invalid as exc:
            raise Invalid(f"malformed number: {exc.message}") from None
        if number not in seen:
            seen.add(number)
            checked.append((number, nums.label(raw_label)))
    return Contact(name, company, email, note, tuple(checked))
