"""vCard parsing as tables: versions 2.1/3.0/4.0, folding, QUOTED-PRINTABLE with charsets, escapes,
groups and labels; broken cards are rows with an error and never hide the good ones."""

from __future__ import annotations

import pytest

from pbx_control.directory import vcard
from pbx_control.directory.drafts import ContactDraft

pytestmark = [pytest.mark.unit, pytest.mark.directory]


def card(*lines: str, version: str = "3.0") -> str:
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]) + "\r\n"


def one(text: str) -> ContactDraft:
    rows = vcard.parse(text)
    assert len(rows) == 1 and rows[0].error is None, rows
    assert rows[0].draft is not None
    return rows[0].draft


@pytest.mark.parametrize(
    ("lines", "version", "name", "company", "numbers"),
    [
        (
            ["FN:Anna Svensson", "TEL;TYPE=CELL:070-123 45 67"],
            "3.0",
            "Anna Svensson",
            None,
            [("070-123 45 67", "mobile")],
        ),
        (["N:Svensson;Anna;;;", "TEL:08-1"], "3.0", "Anna Svensson", None, [("08-1", "")]),
        (["N:Berg;Per;Olof;Dr.;Jr.", "ORG:Acme;Sälj"], "3.0", "Dr. Per Olof Berg Jr.", "Acme Sälj", []),
        (["FN:Lång", " e Namn"], "3.0", "Långe Namn", None, []),  # folded line
        (["FN:Tab", "\tbed"], "3.0", "Tabbed", None, []),
        (["FN:A\\, B\\; C\\\\D"], "3.0", "A, B; C\\D", None, []),
        (["ORG:Ängström\\, Berg & Söner AB", "FN:X"], "3.0", "X", "Ängström, Berg & Söner AB", []),
        (["FN;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:=C5sa =D6berg"], "2.1", "Åsa Öberg", None, []),
        (
            ["FN;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:=C3=85sa=20=", "=C3=96berg"],
            "2.1",
            "Åsa Öberg",
            None,
            [],
        ),
        (["FN;QUOTED-PRINTABLE;CHARSET=ISO-8859-1:J=F6rgen"], "2.1", "Jörgen", None, []),
        (["FN;ENCODING=QUOTED-PRINTABLE;CHARSET=bogus:J=C3=B6rgen"], "2.1", "Jörgen", None, []),
        (
            ["FN:Ett", "TEL;CELL;VOICE:0701", "TEL;WORK;FAX:0802"],
            "2.1",
            "Ett",
            None,
            [("0701", "mobile"), ("0802", "work")],
        ),
        (
            ["FN:Fyra", 'TEL;VALUE=uri;TYPE="cell,voice":tel:+46-70-1'],
            "4.0",
            "Fyra",
            None,
            [("tel:+46-70-1", "mobile")],
        ),
        (
            [
                "FN:Grupp",
                "item1.TEL:010-1",
                "item1.X-ABLabel:_$!<Mobile>!$_",
                "item2.TEL:010-2",
                "item2.X-ABLabel:Växel",
            ],
            "3.0",
            "Grupp",
            None,
            [("010-1", "mobile"), ("010-2", "Växel")],
        ),
        (["fn:små bokstäver", "tel;type=work:1"], "3.0", "små bokstäver", None, [("1", "work")]),
        (
            [
                "FN:Med foto",
                "PHOTO;ENCODING=b;TYPE=JPEG:AAAA",
                " BBBB",
                "X-CUSTOM;FOO=bar:baz",
                "ADR:;;Gatan 1;;;;",
            ],
            "3.0",
            "Med foto",
            None,
            [],
        ),
    ],
)
def test_cards(
    lines: list[str], version: str, name: str, company: str | None, numbers: list[tuple[str, str]]
) -> None:
    draft = one(card(*lines, version=version))
    assert (draft.name, draft.company, draft.numbers) == (name, company, numbers)


def test_note_and_email() -> None:
    draft = one(card("FN:X", "EMAIL;TYPE=INTERNET:a@b.se", "EMAIL:second@b.se", "NOTE:rad ett\\nrad två"))
    assert (draft.email, draft.note) == ("a@b.se", "rad ett\nrad två")


def test_broken_cards_are_rows_with_reasons_and_the_rest_survive() -> None:
    text = (
        card("FN:Först")
        + "BEGIN:VCARD\r\nFN:Ingen slut\r\n"
        + card("FN:Efter")
        + card("FN:Trasig", "detta är ingen egenskap")
        + "END:VCARD\r\n"  # stray END
        + "BEGIN:VCARD\r\nFN:Sist utan slut\r\n"
    )
    rows = vcard.parse(text)
    assert [(r.row, r.draft.name if r.draft else None) for r in rows] == [
        (1, "Först"),
        (2, None),
        (3, "Efter"),
        (4, None),
        (5, None),
    ]
    assert "no END:VCARD" in (rows[1].error or "")
    assert "not a vCard property" in (rows[3].error or "") and "line" in (rows[3].error or "")
    assert "ends inside a card" in (rows[4].error or "")
    assert [r.line for r in rows] == [1, 5, 7, 11, 17]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("BEGIN:VCARD\r\n", True), ("\ufeff  begin:vcard", True), ("Name,Phone", False), ("", False)],
)
def test_looks_like_vcard(text: str, expected: bool) -> None:
    assert vcard.looks_like_vcard(text) is expected
