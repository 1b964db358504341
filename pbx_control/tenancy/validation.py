"""Pure input checks shared by the tenancy services; each raises Invalid saying what and why.

The rules mirror the CHECK constraints in pbx_control/sql/001_foundation.sql, so a bad value is refused with
a readable message before PostgreSQL would refuse it with a constraint name.
"""

from __future__ import annotations

import re
import zoneinfo

from pbx_control.kernel import ids
from pbx_control.kernel.errors import Invalid
from pbx_control.mail.outbox import valid_address

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,99}$")
EMAIL_RE = re.compile(r"^[^@\s\x00-\x1f]+@[^@\s\x00-\x1f]+\.[^@\s\x00-\x1f]+$")
HHMM_RE = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

ROLES = ("user", "operator", "admin")
LANGUAGES = ("sv", "en")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_USER_PASSWORD = 8
MAX_BCRYPT_BYTES = 72


def extension(value: object) -> str:
    if not isinstance(value, str) or not ids.EXTENSION.fullmatch(value):
        raise Invalid("extension must be 2 to 8 digits and must not start with 0")
    return value


def username(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("username must be a non-empty string")
    if value != value.lower():
        raise Invalid("username must be lowercase")
    if not USERNAME_RE.fullmatch(value):
        raise Invalid(
            "username must be 2 to 100 characters: lowercase letters, digits and . _ @ + -,"
            " starting with a letter or digit"
        )
    return value


def name(value: object, field: str = "name", max_len: int = 200) -> str:
    """A display name: stored as given (quotes, newlines, any script), but never blank."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{field} must be a non-empty string")
    if len(value) > max_len:
        raise Invalid(f"{field} must be at most {max_len} characters")
    if "\x00" in value:
        raise Invalid(f"{field} must not contain NUL characters")
    return value


def email(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid("email must be a string or null")
    value = value.strip()
    if not value:
        return None
    if len(value) > 254 or not EMAIL_RE.fullmatch(value) or not valid_address(value):
        raise Invalid("email must look like name@example.com")
    return value


def user_password(value: object) -> str:
    if not isinstance(value, str) or len(value) < MIN_USER_PASSWORD:
        raise Invalid(f"password must be at least {MIN_USER_PASSWORD} characters")
    if len(value.encode()) > MAX_BCRYPT_BYTES:
        raise Invalid(f"password must be at most {MAX_BCRYPT_BYTES} bytes")
    return value


def role(value: object) -> str:
    if not isinstance(value, str) or value not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    return value


def language(value: object) -> str:
    if not isinstance(value, str) or value not in LANGUAGES:
        raise Invalid(f"language must be one of {', '.join(LANGUAGES)}")
    return value


def ring_time(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 5 <= value <= 300:
        raise Invalid("ring_time must be a whole number of seconds from 5 to 300")
    return value


def slug(value: object) -> str:
    if not isinstance(value, str) or not ids.SLUG.fullmatch(value):
        raise Invalid("slug must be 2 to 24 characters: lowercase letters and digits, starting with a letter")
    return value


def timezone(value: object) -> str:
    if not isinstance(value, str) or not value or value.startswith("/") or ".." in value:
        raise Invalid("timezone must be an IANA time zone name such as Europe/Stockholm")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"unknown timezone {value!r}; use an IANA name such as Europe/Stockholm") from exc
    return value


def working_hours(value: object) -> dict[str, list[str]]:
    """{"mon": ["08:00", "17:00"], ...}; a missing day is closed."""
    if not isinstance(value, dict):
        raise Invalid('working_hours must be an object like {"mon": ["08:00", "17:00"]}')
    for day, span in value.items():
        if day not in DAYS:
            raise Invalid(f"working_hours: unknown day {day!r}; use {', '.join(DAYS)}")
        if (
            not isinstance(span, list)
            or len(span) != 2
            or not all(isinstance(t, str) and HHMM_RE.fullmatch(t) for t in span)
        ):
            raise Invalid(f'working_hours.{day} must be ["HH:MM", "HH:MM"]')
        if span[0] >= span[1]:
            raise Invalid(f"working_hours.{day}: the opening time must be before the closing time")
    return value


def sip_username(value: object) -> str:
    if not isinstance(value, str) or not ids.ENDPOINT.fullmatch(value):
        raise Invalid(
            "sip_username must be 3 to 64 characters: lowercase letters, digits and _, starting with a letter"
        )
    return value


def sip_password(value: object, min_len: int = 12) -> str:
    if not isinstance(value, str) or len(value) < min_len:
        raise Invalid(f"SIP password must be at least {min_len} characters")
    if len(value) > 128:
        raise Invalid("SIP password must be at most 128 characters")
    if not all("!" <= ch <= "~" for ch in value):
        raise Invalid("SIP password must be printable ASCII without spaces")
    return value


def label(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 100:
        raise Invalid("label must be a string of at most 100 characters")
    if "\x00" in value:
        raise Invalid("label must not contain NUL characters")
    return value


def positive_id(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise Invalid(f"{field} must be a positive integer")
    return value
