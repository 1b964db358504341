"""Identifier patterns are written once (kernel/ids.py); the database's CHECK constraints, written
in SQL, must say the same, so a value the code accepts is never refused by PostgreSQL (a 500)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pbx_control.kernel import ids

pytestmark = [pytest.mark.unit, pytest.mark.tenancy]

SQL = Path(__file__).resolve().parents[2] / "pbx_control" / "sql"


def _checks(column: str) -> set[str]:
    text = "\n".join(p.read_text() for p in sorted(SQL.glob("*.sql")))
    return set(re.findall(rf"\b{column}\s+text[^\n]*CHECK \({column} ~ '\^(.*?)\$'\)", text))


@pytest.mark.parametrize(
    ("column", "pattern"),
    [("slug", ids.SLUG), ("extension", ids.EXTENSION), ("sip_username", ids.ENDPOINT)],
)
def test_sql_checks_match_the_kernel_patterns(column: str, pattern: re.Pattern[str]) -> None:
    assert _checks(column) == {pattern.pattern}


@pytest.mark.parametrize(
    ("pattern", "good", "bad"),
    [
        (ids.SLUG, ["ab", "acme", "a" * 24], ["a", "1acme", "Acme", "ac-me", "a" * 25, "acme\n"]),
        (ids.EXTENSION, ["10", "1001", "99999999"], ["1", "0100", "123456789", "10a", "1001\n"]),
        (ids.ENDPOINT, ["acme_1001_1", "abc"], ["ab", "1abc", "Abc", "a-b-c", "abc\n"]),
        (
            ids.E164,
            ["+46812345", "+46701234567", "+123456789012345"],
            ["46812345", "+0123456", "+1234", "+46 8", "+4681234567\n"],
        ),
        (ids.UNIQUEID, ["1717000000.42", "pbx1-1717000000.42"], ["1717000000", "x;y-1.2", "1.2\n"]),
    ],
)
def test_patterns_as_a_table(pattern: re.Pattern[str], good: list[str], bad: list[str]) -> None:
    assert all(pattern.fullmatch(v) for v in good)
    assert not any(pattern.fullmatch(v) for v in bad)


def test_org_context_is_built_once_and_checked() -> None:
    assert ids.org_context("acme") == "org-acme"
    with pytest.raises(ValueError):
        ids.org_context("acme,1")
