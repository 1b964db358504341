"""Normalize phone numbers to E.164 (`+46812345678`). Pure; no I/O.

Accepted, after removing spaces, dashes and parentheses:
  * E.164: `+46 8 123 456 78`; a trunk prefix written as `(0)` is dropped: `+46 (0)8 123 456 78`
  * international with the 00 prefix: `0046 8 123 456 78`
  * national, starting with 0, in the default country: `08-123 456 78`, `0701234567`
Anything else raises Invalid with the reason.
"""

from __future__ import annotations

import re

from pbx_control.kernel.errors import Invalid

DEFAULT_COUNTRY_CODE = "46"  # Sweden
_STRIP = str.maketrans("", "", " \t-()")
_COUNTRY_CODE_RE = re.compile(r"^[1-9][0-9]{0,2}$")
MIN_DIGITS = 7  # country code + subscriber number
MAX_DIGITS = 15  # E.164


def normalize(raw: object, default_country_code: str | int = DEFAULT_COUNTRY_CODE) -> str:
    """Return `raw` as E.164, or raise Invalid saying why it is not a phone number."""
    cc = str(default_country_code)
    if not _COUNTRY_CODE_RE.fullmatch(cc):
        raise ValueError(f"default_country_code must be 1 to 3 digits, got {default_country_code!r}")
    if not isinstance(raw, str):
        raise Invalid("phone number must be a string")
    text = raw.strip()
    if not text:
        raise Invalid("phone number is empty")
    if text.startswith("+"):
        text = text.replace("(0)", "", 1)
    compact = " ".join(text.split()).translate(_STRIP)
    for ch in compact:
        if not (ch.isascii() and ch.isdigit()) and ch != "+":
            raise Invalid(
                f"phone number {raw!r} contains {ch!r}; use digits, optionally with a leading +,"
                " spaces, dashes and parentheses"
            )
    if "+" in compact[1:]:
        raise Invalid(f"phone number {raw!r} has a + that is not at the start")
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    elif compact.startswith("0"):
        digits = cc + compact[1:]
    else:
        raise Invalid(f"phone number {raw!r} must be international (+{cc}...) or national starting with 0")
    if not digits:
        raise Invalid(f"phone number {raw!r} has no digits after the prefix")
    if digits.startswith("0"):
        raise Invalid(f"phone number {raw!r}: a country code cannot start with 0")
    if digits.startswith(cc + "0"):
        raise Invalid(f"phone number {raw!r}: drop the 0 after the country code +{cc}")
    if len(digits) < MIN_DIGITS:
        raise Invalid(f"phone number {raw!r} is too short")
    if len(digits) > MAX_DIGITS:
        raise Invalid(f"phone number {raw!r} is too long (E.164 allows at most {MAX_DIGITS} digits)")
    return "+" + digits
