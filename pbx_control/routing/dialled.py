"""What a dialled string is: an internal extension, an external number, or nothing we can reach.

Phones send digits (and * # +); this only classifies them. Admin-typed numbers (spaces, dashes)
are normalized by pbx_control.tenancy when stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pbx_control.kernel import ids

_INTERNATIONAL = re.compile(r"^00([1-9][0-9]{5,14})$")
_NATIONAL = re.compile(r"^0([1-9][0-9]{4,12})$")
# Numbers that leave through the trunk as dialled, even though they look like extensions.
EMERGENCY = frozenset({"112", "911", "999", "90000", "11414", "1177"})


@dataclass(frozen=True)
class Dialled:
    kind: Literal["extension", "external", "invalid"]
    value: str  # extension digits, or the number to send to the carrier


def classify(dialled: str, country_code: str = "46") -> Dialled:
    if dialled in EMERGENCY:
        return Dialled("external", dialled)
    if ids.EXTENSION.fullmatch(dialled):
        return Dialled("extension", dialled)
    if ids.E164.fullmatch(dialled):
        return Dialled("external", dialled)
    if m := _INTERNATIONAL.match(dialled):
        return Dialled("external", "+" + m.group(1))
    if m := _NATIONAL.match(dialled):
        return Dialled("external", f"+{country_code}{m.group(1)}")
    return Dialled("invalid", dialled)


def to_e164(number: str, country_code: str = "46") -> str | None:
    """A number as a carrier may send it (E.164 with or without +, 00..., national 0...)."""
    d = classify(number, country_code)
    if d.kind == "external" and d.value.startswith("+"):
        return d.value
    if re.fullmatch(r"[1-9][0-9]{7,14}", number):
        return "+" + number
    return None
