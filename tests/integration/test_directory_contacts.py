"""Phonebook contacts over the API: create, read, change, delete; who may do what across users,
roles and organizations; bad input is a 4xx and changes nothing."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import bearer, login
from tests.support.directory import call, directory_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.directory]

ANNA = {
    "name": 'Anna "Annie" Öberg',
    "company": "Acme AB",
    "numbers": [{"number": "070-123 45 67", "label": "CELL"}, {"number": "08 123 456 78", "label": "work"}],
}


@pytest.fixture
async def tokens(client: TestClient) -> dict[str, dict[str, str]]:
    names = ("alpha-admin", "alpha-user", "alpha-operator", "beta-admin", "beta-user", "root")
    return {n: bearer(await login(client, n)) for n in names}


async def test_personal_contact_roundtrip_normalizes_numbers(
    client: TestClient, tokens: dict[str, dict[str, str]]
) -> None:
    h = tokens["alpha-user"]
    status, made = await call(client, "POST", "/users/me/contacts", h, ANNA)
    assert status == 201, made
    assert made["book"] == "personal" and made["name"] == 'Anna "Annie" Öberg'
    assert made["numbers"] == [
        {"number": "+46701234567", "label": "mobile"},
        {"number": "+46812345678", "label": "work"},
    ]
    assert (made["favorite"], made["vip"], made["blocked"]) == (False, False, False)
    status, got = await call(client, "GET", f"/contacts/{made['id']}", h)
    assert status == 200 and got == made
    status, changed = await call(
        client, "PATCH", f"/contacts/{made['id']}", h, {"note": "line one\nline two", "company": None}
    )
    assert status == 200, changed
    assert changed["note"] == "line one\nline two" and changed["company"] is None
    assert changed["numbers"] == made["numbers"]
    status, _ = await call(client, "DELETE", f"/contacts/{made['id']}", h)
    assert status == 204
    assert (await call(client, "GET", f"/contacts/{made['id']}", h))[0] == 404


@pytest.mark.parametrize(
    "name",
    ["Ολυμπία Παπαδοπούλου", "李小龙", 'O\'Brien "Bob"', "Åsa\nÖberg\t<script>", "محمد"],
)
async def test_names_in_any_script_are_stored_and_returned(
    client: TestClient, tokens: dict[str, dict[str, str]], name: str
) -> None:
    status, made = await call(client, "POST", "/users/me/contacts", tokens["alpha-user"], {"name": name})
    assert status == 201, made
    assert made["name"] == " ".join(name.split())  # one line; everything else kept as given


async def test_personal_contacts_are_private(
    client: TestClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    _, mine = await call(client, "POST", "/users/me/contacts", tokens["alpha-user"], ANNA)
    before = await directory_snapshot(db_pool)
    for who in ("alpha-admin", "alpha-operator", "beta-user"):
        h = tokens[who]
        for method, path, body in [
            ("GET", f"/contacts/{mine['id']}", None),
            ("PATCH", f"/contacts/{mine['id']}", {"name": "x"}),
            ("DELETE", f"/contacts/{mine['id']}", None),
            ("PUT", f"/contacts/{mine['id']}/marks", {"vip": True}),
        ]:
            status, err = await call(client, method, path, h, body)
            assert status == 404, (who, method, path, err)
            assert err["error"]["code"] == "not_found"
        _, listed = await call(client, "GET", "/users/me/contacts", h)
        assert listed == []
        _, found = await call(client, "GET", "/directory?q=anna", h)
        assert all(e["kind"] != "contact" for e in found)
    assert await directory_snapshot(db_pool) == before
    # The same answer as for an id that never existed.
    missing = await call(client, "GET", "/contacts/987654321", tokens["alpha-admin"])
    other = await call(client, "GET", f"/contacts/{mine['id']}", tokens["alpha-admin"])
    assert missing == other


async def test_shared_phonebook_everyone_reads_editors_change(
    client: TestClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    status, err = await call(client, "POST", "/phonebook", tokens["alpha-user"], ANNA)
    assert status == 403 and err["error"]["code"] == "forbidden"
    status, shared = await call(client, "POST", "/phonebook", tokens["alpha-operator"], ANNA)
    assert status == 201 and shared["book"] == "shared"
    for who in ("alpha-user", "alpha-admin", "alpha-operator"):
        _, listed = await call(client, "GET", "/phonebook", tokens[who])
        assert [c["id"] for c in listed] == [shared["id"]]
    before = await directory_snapshot(db_pool)
    for method, body in [("PATCH", {"name": "Changed"}), ("DELETE", None)]:
        status, err = await call(client, method, f"/contacts/{shared['id']}", tokens["alpha-user"], body)
        assert status == 403, err
    # Another organization sees nothing of it, not even that it exists.
    for method, body in [("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)]:
        status, _ = await call(client, method, f"/contacts/{shared['id']}", tokens["beta-admin"], body)
        assert status == 404
    _, beta_book = await call(client, "GET", "/phonebook", tokens["beta-user"])
    assert beta_book == []
    status, _ = await call(client, "GET", "/phonebook", tokens["root"])
    assert status == 403
    assert await directory_snapshot(db_pool) == before
    status, changed = await call(
        client, "PATCH", f"/contacts/{shared['id']}", tokens["alpha-admin"], {"name": "Anna Ö"}
    )
    assert status == 200 and changed["name"] == "Anna Ö"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"name": "X", "numbers": [{"number": "abc"}]}, ["malformed number", "'a'"]),
        ({"name": "X", "numbers": [{"number": "12"}, {"number": "+46 70 12"}]}, ["too short"]),
        ({"name": "X", "numbers": [{"number": "4670123456"}]}, ["international", "national"]),
        ({"name": "X", "numbers": [{"number": "+46 070 123 45 67"}]}, ["drop the 0"]),
        ({"name": "X", "numbers": [{"number": "+4670" + "1" * 20}]}, ["too long"]),
        ({"name": "   "}, ["no name"]),
        ({}, ["no name"]),
        ({"name": "x" * 201}, ["at most 200"]),
        ({"name": "nul\x00byte"}, ["NUL"]),
        ({"name": "X", "email": "not-an-email"}, ["email"]),
        ({"name": "X", "numbers": [{"number": "0701234567", "label": "x" * 41}]}, ["label"]),
        ({"name": "X", "unknown": 1}, ["unknown: is not a known field"]),
        ({"name": "X", "numbers": [{"number": "070"}] * 21}, ["numbers"]),
    ],
)
async def test_bad_contacts_are_400_and_change_nothing(
    client: TestClient,
    tokens: dict[str, dict[str, str]],
    db_pool: asyncpg.Pool,
    body: dict,
    words: list[str],
) -> None:
    before = await directory_snapshot(db_pool)
    status, err = await call(client, "POST", "/users/me/contacts", tokens["alpha-user"], body)
    assert status == 400, err
    for word in words:
        assert word in err["error"]["message"], err
    assert await directory_snapshot(db_pool) == before


async def test_bad_patch_keeps_the_contact(
    client: TestClient, tokens: dict[str, dict[str, str]], db_pool: asyncpg.Pool
) -> None:
    h = tokens["alpha-user"]
    _, made = await call(client, "POST", "/users/me/contacts", h, ANNA)
    before = await directory_snapshot(db_pool)
    for body in ({"numbers": [{"number": "070-12x"}]}, {"name": "", "company": None}, "not json"):
        raw = body.encode() if isinstance(body, str) else body
        status, err = await call(client, "PATCH", f"/contacts/{made['id']}", h, raw)
        assert status == 400, (body, err)
    assert await directory_snapshot(db_pool) == before
    status, _ = await call(client, "PATCH", "/contacts/987654321", h, {"name": "x"})
    assert status == 404
