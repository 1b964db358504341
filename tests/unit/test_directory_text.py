"""Names and queries, as tables: search words fold like the SQL side, display names are safe for
CALLERID, prompts and logs, and contacts are checked with the API's and the importers' rules."""

from __future__ import annotations

import pytest

from pbx_control.directory import search
from pbx_control.directory.drafts import ContactDraft, check
from pbx_control.directory.text import like_escape, safe_display_name, search_words
from pbx_control.kernel.errors import Invalid

pytestmark = [pytest.mark.unit, pytest.mark.directory]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("Anna", ["anna"]),
        ("  ÅSA   öberg ", ["åsa", "öberg"]),
        ("Anna-Karin", ["anna", "karin"]),
        ("a_b%c", ["a", "b", "c"]),
        ("A\u030asa", ["åsa"]),  # decomposed (macOS) å is folded to the composed one
        ("anna anna", ["anna"]),
        ("a b c d e f g", ["a", "b", "c", "d", "e"]),
        ("李小龙", ["李小龙"]),
        ("!!!", []),
    ],
)
def test_search_words(query: str, words: list[str]) -> None:
    assert search_words(query) == words


def test_like_escape() -> None:
    assert like_escape("50%_a\\b") == "50\\%\\_a\\\\b"


@pytest.mark.parametrize(
    ("query", "mode", "params"),
    [
        (None, "all", []),
        ("  ", "all", []),
        ("anna sv", "words", ["% anna%", ["% anna%", "% sv%"]]),
        ("070-12", "number", ["+467012%", "+467012%"]),
        ("10", "number", ["10%", "+10%"]),
        ("%%", "nothing", []),
    ],
)
def test_parse_query(query: str | None, mode: str, params: list) -> None:
    assert search.parse_query(query) == (mode, params)


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("Anna Svensson", "Anna Svensson"),
        ('O\'Brien "Bob"', 'O\'Brien "Bob"'),
        ("Rad ett\nRad två", "Rad ett Rad två"),
        ("Evil\u202eeman", "Evil eman"),  # bidi override
        ("nul\x00and\x07bell", "nul and bell"),
        ("Ελένη 李", "Ελένη 李"),
        ("   ", None),
        ("", None),
        (None, None),
        ("x" * 100, "x" * 64),
    ],
)
def test_safe_display_name(name: str | None, safe: str | None) -> None:
    assert safe_display_name(name) == safe


@pytest.mark.parametrize(
    ("draft", "name", "numbers"),
    [
        (ContactDraft(name="  Anna\n Svensson "), "Anna Svensson", ()),
        (ContactDraft(company="Acme AB"), "Acme AB", ()),
        (
            ContactDraft(name="A", numbers=[("070-1234567", "CELL"), ("+46701234567", "work")]),
            "A",
            (("+46701234567", "mobile"),),
        ),
        (ContactDraft(name="A", numbers=[("1001", "")]), "A", (("1001", ""),)),
    ],
)
def test_check(draft: ContactDraft, name: str, numbers: tuple) -> None:
    contact = check(draft)
    assert (contact.name, contact.numbers) == (name, numbers)


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        (ContactDraft(), "no name"),
        (ContactDraft(name=" ", company=" "), "no name"),
        (ContactDraft(name="A", numbers=[("07x", "")]), "malformed number"),
        (ContactDraft(name="A", numbers=[("0701234567", "")] * 21), "at most 20"),
        (ContactDraft(name="A", email="nope"), "email"),
        (ContactDraft(name="A", note="x" * 2001), "note"),
        (ContactDraft(name="A", company="x" * 201), "company"),
    ],
)
def test_check_refuses(draft: ContactDraft, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        check(draft)
    assert reason in err.value.message
