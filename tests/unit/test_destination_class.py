"""Destination classes of the call policy, by Swedish numbering."""

from __future__ import annotations

import pytest

from pbx_control.routing.destinations import destination_class


@pytest.mark.parametrize(
    ("dialled", "expected"),
    [
        ("112", "emergency"),
        ("11414", "emergency"),
        ("1001", "internal"),
        ("081234567", "national"),
        ("+46812345678", "national"),
        ("0046812345678", "national"),
        ("0701234567", "mobile"),
        ("+46761234567", "mobile"),
        ("0900123456", "premium"),
        ("0939123456", "premium"),
        ("+46944123456", "premium"),
        ("+4420794601234", "international"),
        ("004420794601234", "international"),
        ("abc", "invalid"),
    ],
)
def test_destination_classes(dialled: str, expected: str) -> None:
    assert destination_class(dialled) == expected
