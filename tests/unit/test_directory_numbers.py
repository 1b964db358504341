"""Phone numbers in phonebooks and caller lists, as tables: what is accepted and what it becomes,
what is refused and why, how callers' numbers and typed search prefixes are read."""

from __future__ import annotations

import pytest

from pbx_control.directory import numbers
from pbx_control.kernel.errors import Invalid

pytestmark = [pytest.mark.unit, pytest.mark.directory]


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("1001", "1001"),  # internal extension
        ("12", "12"),
        ("12345678", "12345678"),
        (" 1001 ", "1001"),
        ("070-123 45 67", "+46701234567"),  # national
        ("0701234567", "+46701234567"),
        ("08-123 456 78", "+46812345678"),
        ("(08) 123 456 78", "+46812345678"),
        ("+46 70 123 45 67", "+46701234567"),  # E.164
        ("+46 (0)70 123 45 67", "+46701234567"),
        ("0046701234567", "+46701234567"),
        ("+1 (425) 555-0100", "+14255550100"),
        ("+44 7700 900123", "+447700900123"),
        ("tel:+46-8-555-666-77;ext=12", "+46855566677"),  # vCard 4.0 URI
    ],
)
def test_accepted_numbers(raw: str, stored: str) -> None:
    assert numbers.contact_number(raw) == stored


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("070-12AB", "contains 'A'"),
        ("abc", "contains 'a'"),
        ("4670123456", "international (+46...) or national"),  # no prefix, too long for an extension
        ("123456789", "international (+46...) or national"),
        ("1", "international"),  # one digit: no extension
        ("0123", "too short"),
        ("+46 070 123 45 67", "drop the 0"),
        ("+0123456789", "cannot start with 0"),
        ("+4670" + "1" * 20, "too long"),
        ("+46+70", "not at the start"),
        ("+", "no digits"),
        ("070" + "\uff11\uff12\uff13\uff14\uff15\uff16\uff17", "contains"),  # full-width digits
    ],
)
def test_refused_numbers_say_why(raw: str, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        numbers.contact_number(raw)
    assert reason in err.value.message


@pytest.mark.parametrize("raw", [None, 1001, 46701234567, ["070"]])
def test_non_strings_are_refused(raw: object) -> None:
    with pytest.raises(Invalid):
        numbers.contact_number(raw)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+46701234567", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("46701234567", "+46701234567"),  # carriers without the +
        ("0046701234567", "+46701234567"),
        ("1001", "1001"),
        ("", None),
        ("anonymous", None),
        ("<unknown>", None),
        ("Restricted", None),
        ("1001; DROP TABLE", None),
        ("0", None),
    ],
)
def test_caller_number(raw: str, stored: str | None) -> None:
    assert numbers.caller_number(raw) == stored


@pytest.mark.parametrize(
    ("query", "prefixes"),
    [
        ("+46 70", ["+4670"]),
        ("0046 70", ["+4670"]),
        ("070-12", ["+467012"]),
        ("0", ["+46"]),
        ("10", ["10", "+10"]),
        ("anna", None),
        ("07a", None),
        ("", None),
        ("+", None),
    ],
)
def test_search_prefixes(query: str, prefixes: list[str] | None) -> None:
    assert numbers.search_prefixes(query) == prefixes


@pytest.mark.parametrize(
    ("raw", "label"),
    [
        ("CELL", "mobile"),
        ("Mobil", "mobile"),
        ("work", "work"),
        ("voice", ""),
        (None, ""),
        ("Växel", "Växel"),
    ],
)
def test_labels(raw: str | None, label: str) -> None:
    assert numbers.label(raw) == label


@pytest.mark.parametrize("raw", ["x" * 41, "a\x07b", 5])
def test_bad_labels(raw: object) -> None:
    with pytest.raises(Invalid):
        numbers.label(raw)
