"""Identifier patterns, each written once. Everything that reaches a dialplan string, an AGI
command or an AMI header is checked against one of these with `fullmatch` (never `match` with
`$`, which accepts a trailing newline)."""

from __future__ import annotations

import re

# An organization's slug: its dialplan context is org-<slug>, its accountcode <slug>.
SLUG = re.compile(r"[a-z][a-z0-9]{1,23}")
# An internal extension: 2 to 8 digits, not starting with 0.
EXTENSION = re.compile(r"[1-9][0-9]{1,7}")
# A number as dialled to or from the carrier: E.164 with +, or a short/emergency number.
NUMBER = re.compile(r"\+?[0-9]{2,16}")
# E.164 as stored (caller lists, forwards, numbers): + and 6 to 15 digits.
E164 = re.compile(r"\+[1-9][0-9]{5,14}")
# A PJSIP endpoint / SIP username (devices and trunks share Asterisk's endpoint namespace).
ENDPOINT = re.compile(r"[a-z][a-z0-9_]{2,63}")
# An Asterisk channel Uniqueid / Linkedid (optionally with a systemname prefix).
UNIQUEID = re.compile(r"(?:[A-Za-z0-9_-]{1,64}-)?[0-9]{1,12}\.[0-9]{1,9}")
# An announcement file name (hex digest).
PROMPT = re.compile(r"[0-9a-f]{32}")


def is_slug(text: str) -> bool:
    return SLUG.fullmatch(text) is not None


def is_extension(text: str) -> bool:
    return EXTENSION.fullmatch(text) is not None


def is_endpoint(text: str) -> bool:
    return ENDPOINT.fullmatch(text) is not None


def org_context(slug: str) -> str:
    """The dialplan context of an organization: the one place `org-<slug>` is built."""
    if not is_slug(slug):
        raise ValueError(f"invalid organization slug {slug!r}")
    return f"org-{slug}"
