"""Importing vCard and CSV exports (Outlook, Google, iPhone, Exchange) over the API: good rows go in,
broken rows are reported with their number and reason, an unreadable file is a 400 and changes
nothing, and importing the same file twice does not double the phonebook."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.directory.imports import MAX_UPLOAD_BYTES
from pbx_control.testing import bearer, login
from tests.support.directory import call, directory_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.directory]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "directory"


# file -> (format, imported names, rejected (row, words in the reason))
EXPECTED = {
    "outlook_2016.vcf": ("vcard", ["Per Lindqvist", "Åsa Öberg"], [(3, "malformed number")]),
    "google.vcf": (
        "vcard",
        [
            "Karl-Johan Ängström",
            "Sofia Nyström-Wiklund med ett mycket långt namn som Google viker över flera rader i exporten",
        ],
        [(3, "no name"), (4, "no END:VCARD")],
    ),
    "iphone.vcf": ("vcard", ["Maja Lund", "Mamma"], [(3, "not a vCard property")]),
    "vcard40.vcf": ("vcard", ["Élise Dubois"], []),
    "google.csv": (
        "csv",
        ["Anna Svensson", "Cecilia Ek", "Åke Ödman"],
        [(4, "no name"), (5, "malformed number")],
    ),
    "outlook_sv.csv": ("csv", ["Göran Persson", "Märta Åberg"], [(5, "malformed number"), (6, "columns")]),
    "outlook_en.csv": ("csv", ["John Q. Smith", "Lisa O'Brien"], [(4, "email")]),
    "exchange.csv": ("csv", ["Nils Holm", "Växeln Kundtjänst"], []),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_import_fixture_into_personal_book(client: TestClient, name: str) -> None:
    fmt, names, rejected = EXPECTED[name]
    h = bearer(await login(client, "alpha-user"))
    status, report = await call(
        client, "POST", "/users/me/contacts/import", h, (FIXTURES / name).read_bytes()
    )
    assert status == 200, report
    assert report["format"] == fmt and report["book"] == "personal"
    assert report["imported"] == len(names)
    assert [p["row"] for p in report["rejected"]] == [r for r, _ in rejected], report
    for problem, (_, words) in zip(report["rejected"], rejected, strict=True):
        assert words in problem["reason"], problem
    _, book = await call(client, "GET", "/users/me/contacts", h)
    assert sorted(c["name"] for c in book) == sorted(names)
    # The same file again: everything is a duplicate, the book does not grow.
    _, again = await call(client, "POST", "/users/me/contacts/import", h, (FIXTURES / name).read_bytes())
    assert again["imported"] == 0 and len(again["skipped"]) == len(names), again
    assert again["rejected"] == report["rejected"]
    _, book_after = await call(client, "GET", "/users/me/contacts", h)
    assert len(book_after) == len(book)


async def test_imported_contacts_are_whole(client: TestClient) -> None:
    h = bearer(await login(client, "alpha-user"))
    await call(client, "POST", "/users/me/contacts/import", h, (FIXTURES / "outlook_2016.vcf").read_bytes())
    _, found = await call(client, "GET", "/users/me/contacts", h, params={"q": "åsa"})
    status, asa = await call(client, "GET", f"/contacts/{found[0]['id']}", h)
    assert status == 200
    assert asa["company"] == "Kräftor & Co AB" and asa["email"] == "asa.oberg@example.se"
    assert asa["note"] == "Ring före lunch,\ninte efter klockan 15."
    assert asa["numbers"] == [
        {"number": "+46812345678", "label": "work"},
        {"number": "+46701234567", "label": "mobile"},
        {"number": "+46812345679", "label": "work"},
    ]


async def test_shared_import_by_multipart_form_for_editors_only(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    def form() -> aiohttp.FormData:
        data = aiohttp.FormData()
        data.add_field(
            "file", (FIXTURES / "google.csv").read_bytes(), filename="contacts.csv", content_type="text/csv"
        )
        return data

    before = await directory_snapshot(db_pool)
    status, err = await call(
        client, "POST", "/phonebook/import", bearer(await login(client, "alpha-user")), data=form()
    )
    assert status == 403, err
    assert await directory_snapshot(db_pool) == before
    operator = bearer(await login(client, "alpha-operator"))
    status, report = await call(client, "POST", "/phonebook/import", operator, data=form())
    assert status == 200, report
    assert report["book"] == "shared" and report["dialect"] == "google" and report["imported"] == 3
    # Everyone in the organization reads them; another organization does not.
    _, seen = await call(client, "GET", "/phonebook", bearer(await login(client, "alpha-user")))
    assert len(seen) == 3
    _, other = await call(client, "GET", "/phonebook", bearer(await login(client, "beta-admin")))
    assert other == []


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ((FIXTURES / "not_contacts.bin").read_bytes(), 400, "binary"),
        ((FIXTURES / "no_name_column.csv").read_bytes(), 400, "no name column"),
        (b"", 400, "empty"),
        (b"   \r\n\r\n", 400, "empty"),
        (b"<html><body>login page</body></html>", 400, "neither"),
        (b"x" * (MAX_UPLOAD_BYTES + 1), 413, "at most 5 MiB"),
    ],
)
async def test_unreadable_files_are_refused_and_change_nothing(
    client: TestClient, db_pool: asyncpg.Pool, body: bytes, status: int, words: str
) -> None:
    h = bearer(await login(client, "alpha-admin"))
    before = await directory_snapshot(db_pool)
    got, err = await call(client, "POST", "/phonebook/import", h, body)
    assert got == status, err
    assert words in err["error"]["message"], err
    assert await directory_snapshot(db_pool) == before


async def test_multipart_without_a_file_is_400(client: TestClient) -> None:
    data = aiohttp.FormData(default_to_multipart=True)
    data.add_field("other", "value")
    status, err = await call(
        client, "POST", "/users/me/contacts/import", bearer(await login(client, "alpha-user")), data=data
    )
    assert status == 400 and "file" in err["error"]["message"]
