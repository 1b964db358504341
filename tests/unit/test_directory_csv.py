"""Contact CSV parsing as tables: Google, Outlook (English and Swedish), Exchange; separators, BOM,
encodings; broken rows are rows with an error, the others are read."""

from __future__ import annotations

import pytest

from pbx_control.directory import csv_import
from pbx_control.kernel.errors import Invalid

pytestmark = [pytest.mark.unit, pytest.mark.directory]


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"\xef\xbb\xbfName\r\n\xc3\x85sa", "Name\r\nÅsa"),  # UTF-8 with BOM
        (b"Name\r\n\xc3\x85sa", "Name\r\nÅsa"),
        (b"Name\r\n\xc5sa \x80", "Name\r\nÅsa €"),  # Windows-1252
        ("Name\r\nÅsa".encode("utf-16"), "Name\r\nÅsa"),  # UTF-16 with BOM (Excel "Unicode text")
    ],
)
def test_decode(data: bytes, text: str) -> None:
    assert csv_import.decode(data).lstrip("\ufeff") == text


@pytest.mark.parametrize(
    ("text", "dialect", "separator", "expected"),
    [
        (
            "First Name,Last Name,Mobile Phone,Business Phone,E-mail Address\n"
            "Anna,Svensson,070-1,08-2,a@b.se\n",
            "outlook",
            ",",
            [("Anna Svensson", None, "a@b.se", [("070-1", "mobile"), ("08-2", "work")])],
        ),
        (
            "Förnamn;Efternamn;Företag;Mobiltelefon;Telefon (arbete)\nÅsa;Öberg;Kräftor AB;070-1;08-2\n",
            "generic",
            ";",
            [("Åsa Öberg", "Kräftor AB", None, [("070-1", "mobile"), ("08-2", "work")])],
        ),
        (
            "Name,Given Name,Family Name,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value\n"
            "Anna S,Anna,S,* Mobile,070-1 ::: 070-2,Work,08-3\n",
            "google",
            ",",
            [("Anna S", None, None, [("070-1", "Mobile"), ("070-2", "Mobile"), ("08-3", "Work")])],
        ),
        (
            '#TYPE Deserialized.Contact\n"DisplayName","Phone","WindowsEmailAddress"\n'
            '"Växeln","0771-1","v@x.se"\n',
            "exchange",
            ",",
            [("Växeln", None, "v@x.se", [("0771-1", "work")])],
        ),
        (
            "Name\tNumber\nTab Tabsson\t1001\n",
            "generic",
            "\t",
            [("Tab Tabsson", None, None, [("1001", "work")])],
        ),
        (
            'Name,Notes\n"Citat ""Q"" Quist","två\nrader, med komma"\n',
            "generic",
            ",",
            [('Citat "Q" Quist', None, None, [])],
        ),
        (
            "Company,Phone\nBara Företag AB,08-1\n",
            "generic",
            ",",
            [(None, "Bara Företag AB", None, [("08-1", "work")])],
        ),
    ],
)
def test_files(text: str, dialect: str, separator: str, expected: list) -> None:
    parsed = csv_import.parse(text)
    assert (parsed.dialect, parsed.separator) == (dialect, separator)
    got = [
        (r.draft.name or None, r.draft.company, r.draft.email, r.draft.numbers)
        for r in parsed.rows
        if r.draft
    ]
    assert got == expected


def test_broken_rows_are_numbered_like_a_spreadsheet() -> None:
    text = "Name,Phone\nGood One,070-1\n\nToo,Many,Columns\nGood Two,070-2\n,\n"
    rows = csv_import.parse(text).rows
    assert [(r.row, r.draft.name if r.draft else None, r.error) for r in rows] == [
        (2, "Good One", None),
        (4, None, "3 columns, the header has 2"),
        (5, "Good Two", None),
    ]


def test_notes_keep_their_lines() -> None:
    rows = csv_import.parse('Name,Notes\nA,"rad 1\nrad 2"\n').rows
    assert rows[0].draft is not None and rows[0].draft.note == "rad 1\nrad 2"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n  \n", "empty"),
        ("Foo,Bar\n1,2\n", "no name column"),
        (",".join(f"c{i}" for i in range(501)) + "\n", "too many columns"),
    ],
)
def test_unreadable_files(text: str, reason: str) -> None:
    with pytest.raises(Invalid) as err:
        csv_import.parse(text)
    assert reason in err.value.message
