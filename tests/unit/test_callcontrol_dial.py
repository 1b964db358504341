"""What a click-to-call destination means: tel:/callto: URIs (RFC 3966) and typed numbers, as a table."""

from __future__ import annotations

import pytest

from pbx_control.callcontrol.dial import DestinationError, parse_destination

pytestmark = [pytest.mark.unit, pytest.mark.calls]

GOOD = [
    ("1002", "1002", "extension"),
    (" 1002 ", "1002", "extension"),
    ("+4681234567", "+4681234567", "external"),
    ("+46 8 123 45 67", "+4681234567", "external"),
    ("08-123 45 67", "081234567", "external"),
    ("(08) 123.45.67", "081234567", "external"),
    ("0046812345678", "0046812345678", "external"),
    ("112", "112", "external"),
    ("tel:+46-8-123 45 67", "+4681234567", "external"),
    ("TEL:+46-8-123-45-67", "+4681234567", "external"),
    ("tel:+46%208%20123%2045%2067", "+4681234567", "external"),
    ("tel:+4681234567;phone-context=+46", "+4681234567", "external"),  # global: context ignored
    ("tel:8-123-45-67;phone-context=+46", "+4681234567", "external"),
    ("tel:123-45-67;phone-context=+46-8", "+4681234567", "external"),
    ("tel:1002;phone-context=pbx.example.com", "1002", "extension"),
    ("tel:08-1234567", "081234567", "external"),  # local, no context: as dialled
    ("tel:+4681234567;foo=bar", "+4681234567", "external"),  # unknown parameter ignored
    ("callto:+4681234567", "+4681234567", "external"),
    ("callto://+46-8-1234567", "+4681234567", "external"),
    ("callto:1002", "1002", "extension"),
]

BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("tel:", "empty"),
    ("abc", "characters"),
    ("1002; Hangup", "characters"),
    ("10+02", "characters"),
    ("1", "neither"),
    ("0123", "neither"),
    ("+12", "neither"),
    ("tel:+46-8-1234567;ext=22", "ext="),
    ("tel:+4681234567;isub=1", "isub="),
    ("tel:1234567;phone-context=+4x", "phone-context"),
    ("tel:1234567;phone-context=-bad-", "phone-context"),
    ("sip:1002@example.com", "scheme"),
    ("mailto:anna@example.com", "scheme"),
    ("callto:anna.svensson", "characters"),
    ("tel:+46 8\n123", "line break"),
    ("+00461234567", "00"),
    ("1" * 201, "longer"),
]


@pytest.mark.parametrize(("text", "dial", "kind"), GOOD)
def test_destinations_we_dial(text: str, dial: str, kind: str) -> None:
    d = parse_destination(text)
    assert (d.dial, d.kind) == (dial, kind)


@pytest.mark.parametrize(("text", "why"), BAD)
def test_destinations_refused_say_why(text: str, why: str) -> None:
    with pytest.raises(DestinationError, match=why):
        parse_destination(text)
