"""vCard 2.1 / 3.0 / 4.0 to ContactDrafts. Pure; no I/O.

Read: FN, N, ORG, TEL (TYPE -> label; 2.1 bare types like `TEL;CELL:`; 4.0 `tel:` URIs), EMAIL, NOTE.
Lines are unfolded (a line starting with a space or tab continues the previous one), group prefixes
(`item1.TEL`) are dropped, backslash escapes (\\n \\, \\; \\\\) decoded, and QUOTED-PRINTABLE values
(2.1, older Outlook and Android exports) decoded with their soft line breaks and CHARSET.
Everything else (PHOTO, ADR, X-...) is skipped.

Each card is one row, numbered from 1 in file order, with the line its BEGIN:VCARD is on. A card
that cannot be read (no END:VCARD, a line that is no property) is a rejected row; the others are
unaffected.
"""

from __future__ import annotations

import quopri
import re
from dataclasses import dataclass

from pbx_control.directory import numbers as nums
from pbx_control.directory.drafts import ContactDraft
from pbx_control.kernel.errors import Invalid

_PROPERTY = re.compile(
    r"^(?:(?P<group>[A-Za-z0-9-]+)\.)?(?P<name>[A-Za-z0-9-]+)(?P<params>(?:;[^:]*)?):(?P<value>.*)$"
)
# Apple and Google label a grouped TEL with `item1.X-ABLabel:_$!<Mobile>!$_` or `item1.X-ABLabel:Växel`.
_APPLE_LABEL = re.compile(r"^_\$!<(.*)>!\$_$")


@dataclass
class ParsedRow:
    row: int
    line: int
    draft: ContactDraft | None  # None when the row could not be read
    error: str | None = None


def looks_like_vcard(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n")[:11].upper() == "BEGIN:VCARD"


def _physical_lines(text: str) -> list[tuple[int, str]]:
    return list(enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1))


def _unfold(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join folded lines; also QUOTED-PRINTABLE soft breaks (a value line ending with '=')."""
    out: list[tuple[int, str]] = []
    for number, line in lines:
        if out and line[:1] in (" ", "\t"):
            out[-1] = (out[-1][0], out[-1][1] + line[1:])
        elif out and _in_qp_continuation(out[-1][1]):
            out[-1] = (out[-1][0], out[-1][1][:-1] + line)
        else:
            out.append((number, line))
    return out


def _in_qp_continuation(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head and line.endswith("=")


def _params(raw: str) -> tuple[list[str], dict[str, str]]:
    """;TYPE=cell,voice;CHARSET=utf-8;PREF -> (types ["cell", "voice", "pref"], {"charset": ...})."""
    types: list[str] = []
    other: dict[str, str] = {}
    for part in raw.split(";")[1:] if raw else []:
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if not eq:  # vCard 2.1: bare TYPE values, ENCODING names and charsets
            if key in ("quoted-printable", "base64", "8bit", "7bit"):
                other["encoding"] = key
            else:
                types.append(key)
        elif key == "type":
            types += [t.strip().strip('"').lower() for t in value.split(",") if t.strip()]
        else:
            other[key] = value.strip().strip('"').lower()
    return types, other


def _decode(value: str, params: dict[str, str]) -> str:
    if params.get("encoding") == "quoted-printable":
        charset = params.get("charset", "utf-8")
        raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
        try:
            return raw.decode(charset)
        except (LookupError, UnicodeDecodeError):
            return raw.decode("utf-8", errors="replace")
    return value


def _unescape(value: str) -> str:
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _split_components(value: str) -> list[str]:
    """Split a structured value (N, ORG) on unescaped ';' and unescape each part."""
    parts, current, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i : i + 2])
            i += 2
            continue
        if ch == ";":
            parts.append(_unescape("".join(current)))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append(_unescape("".join(current)))
    return parts


def _card(lines: list[tuple[int, str]]) -> ContactDraft:
    """One card's properties (between BEGIN and END) -> a draft; ValueError if a line is no property."""
    draft = ContactDraft()
    structured_name = ""
    grouped: dict[str, int] = {}  # group -> index of its TEL in draft.numbers
    for line_no, line in lines:
        if not line.strip():
            continue
        match = _PROPERTY.match(line)
        if match is None:
            raise ValueError(f"line {line_no} is not a vCard property: {line[:40]!r}")
        name = match["name"].upper()
        types, params = _params(match["params"])
        value = _decode(match["value"], params)
        if name == "FN":
            draft.name = _unescape(value).strip() or draft.name
        elif name == "N":
            parts = [p.strip() for p in _split_components(value)] + [""] * 5
            family, given, middle, prefix, suffix = parts[:5]
            structured_name = " ".join(p for p in (prefix, given, middle, family, suffix) if p)
        elif name == "ORG":
            company = " ".join(p.strip() for p in _split_components(value) if p.strip())
            draft.company = company or None
        elif name == "TEL":
            number = _unescape(value).strip()
            if number:
                if match["group"]:
                    grouped[match["group"].lower()] = len(draft.numbers)
                draft.numbers.append((number, nums.label_from_types(types)))
        elif name == "X-ABLABEL" and match["group"] and match["group"].lower() in grouped:
            index = grouped[match["group"].lower()]
            text = _APPLE_LABEL.sub(r"\1", _unescape(value).strip())
            try:
                draft.numbers[index] = (draft.numbers[index][0], nums.label(text[: nums.MAX_LABEL]))
            except Invalid:
                pass  # a label we cannot keep (control characters): the number stays unlabelled
        elif name == "EMAIL":
            if draft.email is None:
                draft.email = _unescape(value).strip() or None
        elif name == "NOTE":
            draft.note = _unescape(value).strip() or None
    if not draft.name and structured_name:
        draft.name = structured_name
    return draft


def parse(text: str) -> list[ParsedRow]:
    """Every card of a vCard file, in order; unreadable cards come back with an error."""
    rows: list[ParsedRow] = []
    current: list[tuple[int, str]] | None = None
    start = 0
    for number, line in _unfold(_physical_lines(text.lstrip("\ufeff"))):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None:
                rows.append(ParsedRow(len(rows) + 1, start, None, "no END:VCARD before the next card"))
            current, start = [], number
        elif upper == "END:VCARD":
            if current is None:
                continue  # a stray END; nothing to import
            rows.append(_finish(len(rows) + 1, start, current))
            current = None
        elif current is not None:
            current.append((number, line))
    if current is not None:
        rows.append(ParsedRow(len(rows) + 1, start, None, "the file ends inside a card (no END:VCARD)"))
    return rows


def _finish(row: int, start: int, lines: list[tuple[int, str]]) -> ParsedRow:
    try:
        return ParsedRow(row, start, _card(lines))
    except ValueError as exc:
        return ParsedRow(row, start, None, str(exc))
