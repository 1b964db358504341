"""Phone numbers in phonebooks and caller lists: E.164 or an internal extension. Pure.

Stored numbers are what pbx_control.tenancy.phone_numbers.normalize makes of them (E.164), or an
extension (2 to 8 digits, not starting with 0, as in users.extension). Searches match by prefix in
whatever format the user types: "070-12" and "+46 70 12" both find +46701234567.
"""

from __future__ import annotations

import re

from pbx_control.kernel import ids
from pbx_control.kernel.errors import Invalid
from pbx_control.tenancy.phone_numbers import DEFAULT_COUNTRY_CODE as DEFAULT_COUNTRY_CODE  # re-exported
from pbx_control.tenancy.phone_numbers import normalize

_SEPARATORS = str.maketrans("", "", " \t-()./\u00a0")
_DIGITS_RE = re.compile(r"^\+?[0-9]+$")
MAX_LABEL = 40

# What vCard TYPEs and CSV column names say, folded to one label vocabulary.
_LABELS = {
    "cell": "mobile",
    "mobile": "mobile",
    "mobil": "mobile",
    "mobiltelefon": "mobile",
    "iphone": "mobile",
    "work": "work",
    "business": "work",
    "office": "work",
    "arbete": "work",
    "home": "home",
    "hem": "home",
    "private": "home",
    "fax": "fax",
    "main": "main",
    "company": "main",
    "pager": "pager",
    "other": "other",
    "voice": "",
    "pref": "",
    "text": "",
    "msg": "",
    "internet": "",
}


def contact_number(raw: object, default_country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """An extension as is, anything else normalized to E.164; Invalid says why not."""
    if isinstance(raw, str):
        compact = raw.strip()
        if ids.EXTENSION.fullmatch(compact):
            return compact
        if compact.lower().startswith("tel:"):  # vCard 4.0 URI value
            compact = compact[4:].split(";", 1)[0]
        return normalize(compact, default_country_code)
    return normalize(raw, default_country_code)


def caller_number(raw: str, default_country_code: str = DEFAULT_COUNTRY_CODE) -> str | None:
    """What Asterisk says called us, in stored form; None if it is no number (anonymous, garbage).

    Beyond contact_number, digits without a prefix longer than an extension are taken as E.164
    without the + (some carriers send 46701234567).
    """
    text = (raw or "").strip()
    if not text:
        return None
    try:
        return contact_number(text, default_country_code)
    except Invalid:
        pass
    compact = text.translate(_SEPARATORS)
    if compact.isdigit() and len(compact) > 8 and compact[0] != "0":
        try:
            return normalize("+" + compact, default_country_code)
        except Invalid:
            return None
    return None


def search_prefixes(query: str, default_country_code: str = DEFAULT_COUNTRY_CODE) -> list[str] | None:
    """Stored-number prefixes a typed number may mean, or None if the query is not a number.

    "+46 70" -> ["+4670"]; "0046 70" -> ["+4670"]; "070" -> ["+4670"]; "10" -> ["10", "+10"]
    (an extension, or E.164 typed without its +). A lone "0" means any number in the default country.
    """
    compact = query.strip().translate(_SEPARATORS)
    if not compact or not _DIGITS_RE.fullmatch(compact):
        return None
    if compact.startswith("+"):
        return ["+" + compact[1:]]
    if compact.startswith("00"):
        return ["+" + compact[2:]]
    if compact.startswith("0"):
        return ["+" + default_country_code + compact[1:]]
    return [compact, "+" + compact]


def label(raw: object) -> str:
    """A number's label: known words folded ("CELL" -> "mobile"), others kept (trimmed, at most
    MAX_LABEL characters)."""
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise Invalid("label must be a string")
    text = " ".join(raw.split())
    folded = _LABELS.get(text.lower())
    if folded is not None:
        return folded
    if len(text) > MAX_LABEL:
        raise Invalid(f"label must be at most {MAX_LABEL} characters")
    if any(ord(ch) < 32 for ch in text):
        raise Invalid("label must not contain control characters")
    return text


def label_from_types(types: list[str]) -> str:
    """The label for a list of vCard TYPE values or CSV words: the first that means something."""
    for t in types:
        folded = _LABELS.get(t.strip().lower())
        if folded:
            return folded
    return ""
