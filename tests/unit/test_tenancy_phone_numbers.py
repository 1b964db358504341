"""The phone number normalizer: a table of what is accepted and what is refused, and why."""

from __future__ import annotations

import pytest

from pbx_control.kernel.errors import Invalid
from pbx_control.tenancy.phone_numbers import normalize

pytestmark = [pytest.mark.unit, pytest.mark.tenancy]

ACCEPTED = [
    ("+46812345678", "+46812345678"),
    ("+46 8 123 456 78", "+46812345678"),
    ("+46 (0)8-123 456 78", "+46812345678"),
    ("08-123 456 78", "+46812345678"),
    ("(08) 123 456 78", "+46812345678"),
    ("0701234567", "+46701234567"),
    ("070-123 45 67", "+46701234567"),
    ("  0701234567  ", "+46701234567"),
    ("031-12 34 56", "+4631123456"),
    ("0046 8 123 456 78", "+46812345678"),
    ("+1 (212) 555-0100", "+12125550100"),
    ("+358 9 1234567", "+35891234567"),
    ("0044 20 7946 0958", "+442079460958"),
]

REFUSED = [
    ("", "empty"),
    ("   ", "empty"),
    ("8123456", "international"),
    ("46812345678", "international"),
    ("+46 8 123 abc", "contains 'a'"),
    ("08/123 456 78", "contains '/'"),
    ("08.123.456.78", "contains '.'"),
    ("+46+812345678", "not at the start"),
    ("08+12345678", "not at the start"),
    ("+", "no digits"),
    ("00", "no digits"),
    ("+0812345678", "cannot start with 0"),
    ("000812345678", "cannot start with 0"),
    ("+460812345678", "drop the 0"),
    ("0123", "too short"),
    ("+1234", "too short"),
    ("+1234567890123456", "too long"),
    ("\uff10\uff17\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "contains"),  # full-width digits
]


@pytest.mark.parametrize(("raw", "expected"), ACCEPTED)
def test_accepted(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(("raw", "why"), REFUSED)
def test_refused_with_reason(raw: str, why: str) -> None:
    with pytest.raises(Invalid) as info:
        normalize(raw)
    assert why in info.value.message


def test_not_a_string() -> None:
    with pytest.raises(Invalid, match="must be a string"):
        normalize(812345678)


@pytest.mark.parametrize(
    ("raw", "cc", "expected"),
    [
        ("020 7946 0958", "44", "+442079460958"),
        ("0701234567", 46, "+46701234567"),
        ("09 1234567", "358", "+35891234567"),
    ],
)
def test_default_country_code_is_a_parameter(raw: str, cc: str | int, expected: str) -> None:
    assert normalize(raw, cc) == expected


@pytest.mark.parametrize("cc", ["", "0", "1234", "4a"])
def test_bad_default_country_code_is_a_programming_error(cc: str) -> None:
    with pytest.raises(ValueError, match="default_country_code"):
        normalize("0701234567", cc)


def test_result_matches_the_schema_check() -> None:
    import re

    schema = re.compile(r"^\+[1-9][0-9]{5,14}$")
    for raw, _ in ACCEPTED:
        assert schema.fullmatch(normalize(raw))
