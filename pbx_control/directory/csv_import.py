"""Contact CSV files (Outlook / Office 365, Exchange, Google Contacts, a plain name;number list) to
ContactDrafts. Pure; no I/O.

- Bytes: UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"), else Windows-1252 (what
  classic Outlook writes): see `decode`.
- Separator: comma, semicolon (Swedish Excel/Outlook) or tab, whichever the header line has most of
  outside quotes. A first line `#TYPE ...` (PowerShell Export-Csv, Exchange) is skipped.
- Columns are recognized by their header, case and punctuation ignored, in English and Swedish:
  see _FIELDS and _PHONES. Google's paired columns `Phone 1 - Type` / `Phone 1 - Value` (values
  may hold several numbers joined by " ::: ") are read as pairs.
- Rows are numbered as a spreadsheet shows them: the header is row 1, the first contact row 2.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from pbx_control.directory.drafts import ContactDraft
from pbx_control.kernel.errors import Invalid

MAX_COLUMNS = 500


@dataclass
class ParsedRow:
    row: int
    draft: ContactDraft | None
    error: str | None = None


@dataclass
class CsvFile:
    dialect: str  # "google", "outlook", "exchange" or "generic": what the header looked like
    separator: str
    rows: list[ParsedRow]


def _key(header: str) -> str:
    return re.sub(r"[^0-9a-zåäöéü]+", "", header.strip().lower())


# Header (folded by _key) -> draft field. First non-empty value wins per field.
_FIELDS: dict[str, str] = {
    **dict.fromkeys(["name", "fullname", "displayname", "namn", "visningsnamn", "fulltnamn"], "name"),
    **dict.fromkeys(["firstname", "givenname", "förnamn", "fornamn"], "given"),
    **dict.fromkeys(["middlename", "additionalname", "mellannamn"], "middle"),
    **dict.fromkeys(["lastname", "familyname", "surname", "efternamn"], "family"),
    **dict.fromkeys(
        ["company", "organization", "organizationname", "organization1name", "företag", "foretag"],
        "company",
    ),
    **dict.fromkeys(
        [
            "email",
            "emailaddress",
            "email1value",
            "windowsemailaddress",
            "primarysmtpaddress",
            "epost",
            "epostadress",
        ],
        "email",
    ),
    **dict.fromkeys(["notes", "note", "anteckningar", "anteckning"], "note"),
}

# Header -> label of a single-number column.
_PHONES: dict[str, str] = {
    **dict.fromkeys(["mobilephone", "mobile", "cellphone", "mobiltelefon", "mobil"], "mobile"),
    **dict.fromkeys(
        ["businessphone", "businessphone2", "phone", "phonenumber", "officephone", "telefon", "arbete"],
        "work",
    ),
    **dict.fromkeys(["telefonarbete", "telefonnummer", "nummer", "number", "tel", "telephone"], "work"),
    **dict.fromkeys(["homephone", "homephone2", "telefonhem", "hemtelefon"], "home"),
    **dict.fromkeys(["companymainphone", "primaryphone", "växel", "vaxel"], "main"),
    **dict.fromkeys(["otherphone", "övrigtelefon", "pager"], "other"),
    **dict.fromkeys(["businessfax", "homefax", "fax"], "fax"),
    **dict.fromkeys(["assistantsphone", "callback", "carphone", "radiophone"], "other"),
}
_GOOGLE_PAIR = re.compile(r"^phone(\d+)(type|label|value)$")


def decode(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _separator(header_line: str) -> str:
    counts = {sep: 0 for sep in (",", ";", "\t")}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _dialect(keys: list[str]) -> str:
    present = set(keys)
    if any(_GOOGLE_PAIR.match(k) for k in keys) or "email1value" in present:
        return "google"
    if "windowsemailaddress" in present or "displayname" in present:
        return "exchange"
    if "businessphone" in present or "mobilephone" in present or "emailaddress" in present:
        return "outlook"
    return "generic"


def parse(text: str) -> CsvFile:
    """All rows of a contact CSV; Invalid if the file as a whole is unusable (no header, no name column)."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith("#TYPE"):
        lines = lines[1:]
    body = "".join(lines)
    if not body.strip():
        raise Invalid("the file is empty")
    separator = _separator(lines[0])
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=separator)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise Invalid(f"the header line is not CSV: {exc}") from None
    if len(header) > MAX_COLUMNS:
        raise Invalid(f"too many columns (at most {MAX_COLUMNS})")
    keys = [_key(h) for h in header]
    if not any(_FIELDS.get(k) in ("name", "given", "family", "company") for k in keys):
        raise Invalid(
            "no name column: expected a header such as Name, First Name/Last Name, Display Name,"
            " Förnamn/Efternamn or Company"
        )
    rows: list[ParsedRow] = []
    row_number = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            row_number += 1
            rows.append(ParsedRow(row_number, None, f"not valid CSV: {exc}"))
            continue
        row_number += 1
        if not any(v.strip() for v in values):
            continue  # blank line: not a contact, not an error
        if len(values) > len(header):
            rows.append(ParsedRow(row_number, None, f"{len(values)} columns, the header has {len(header)}"))
            continue
        rows.append(ParsedRow(row_number, _draft(keys, values)))
    return CsvFile(_dialect(keys), separator, rows)


def _draft(keys: list[str], values: list[str]) -> ContactDraft:
    fields: dict[str, str] = {}
    numbers: list[tuple[str, str]] = []
    google_types: dict[str, str] = {}
    google_values: dict[str, str] = {}
    for key, value in zip(keys, values, strict=False):
        value = value.strip()
        if not value:
            continue
        field = _FIELDS.get(key)
        if field is not None:
            fields.setdefault(field, value)
            continue
        if key in _PHONES:
            numbers.append((value, _PHONES[key]))
            continue
        pair = _GOOGLE_PAIR.match(key)
        if pair is not None:
            target = google_values if pair[2] == "value" else google_types
            target[pair[1]] = value
    for index, value in sorted(google_values.items(), key=lambda kv: int(kv[0])):
        label = google_types.get(index, "").lstrip("* ")  # "* Mobile": Google stars the primary one
        for one in value.split(":::"):
            if one.strip():
                numbers.append((one.strip(), label))
    name = fields.get("name") or " ".join(fields[f] for f in ("given", "middle", "family") if fields.get(f))
    return ContactDraft(
        name=name or None,
        company=fields.get("company"),
        email=fields.get("email"),
        note=fields.get("note"),
        numbers=numbers,
    )
