"""Directory search as a table: prefix and case-insensitive on any word of the name (Swedish letters
included), number prefixes in every format, starred first, each part alphabetical (å ä ö after z)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.directory import search
from pbx_control.tenancy import users
from pbx_control.testing import PASSWORD, World, api_client, bearer, login, seed_world
from tests.support.directory import call

pytestmark = [pytest.mark.integration, pytest.mark.directory]

COLLEAGUES = [
    ("1010", "Åsa Öberg"),
    ("1011", "Örjan Ek"),
    ("1012", "Zlatan Ibrahimović"),
    ("1013", "Ärla Andersson"),
]


@pytest.fixture
async def world(db_pool: asyncpg.Pool) -> World:
    world = await seed_world(db_pool)
    org = world.orgs["alpha"]
    async with db_pool.acquire() as conn:
        for ext, name in COLLEAGUES:
            user = await users.create_user(conn, org, ext, name, f"u{ext}", PASSWORD, "user", "sv")
            world.users[name] = user["id"]
        await conn.execute(
            "INSERT INTO answer_groups (organization_id, extension, name)"
            " VALUES ($1, '2000', 'Support Sverige')",
            org,
        )
    return world


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World) -> AsyncIterator[TestClient]:
    async with api_client(db_pool) as c:
        h_admin = bearer(await login(c, "alpha-admin"))
        h_user = bearer(await login(c, "alpha-user"))
        shared = {
            "name": "Anna-Karin Svensson",
            "company": "Acme AB",
            "numbers": [{"number": "070-123 45 67"}],
        }
        await call(c, "POST", "/phonebook", h_admin, shared)
        await call(
            c,
            "POST",
            "/users/me/contacts",
            h_user,
            {"name": "Anders Åberg", "numbers": [{"number": "08-765 43 21"}]},
        )
        await call(
            c,
            "POST",
            "/users/me/contacts",
            h_admin,
            {"name": "Hemlig Anna", "numbers": [{"number": "0701234567"}]},
        )
        yield c


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("anna", ["Anna-Karin Svensson"]),  # not the admin's personal "Hemlig Anna"
        ("ANNA", ["Anna-Karin Svensson"]),
        ("ka", ["Anna-Karin Svensson"]),  # any word of the name
        ("svensson anna", ["Anna-Karin Svensson"]),  # every word, any order
        ("acme", ["Anna-Karin Svensson"]),  # the company
        ("nna", []),  # prefix of a word, not a substring
        ("åsa", ["Åsa Öberg"]),
        ("ÅSA", ["Åsa Öberg"]),
        ("öb", ["Åsa Öberg"]),
        ("ä", ["Ärla Andersson"]),
        ("å", ["Anders Åberg", "Åsa Öberg"]),
        (
            "a",
            [
                "alpha admin",
                "alpha operator",
                "alpha user",
                "Anders Åberg",
                "Anna-Karin Svensson",
                "Ärla Andersson",
            ],
        ),
        ("ibrahimovic", []),  # no accent folding: ć is its own letter
        ("ibrahimović", ["Zlatan Ibrahimović"]),
        ("support", ["Support Sverige"]),
        ("%", []),
        (
            "a%",
            [
                "alpha admin",
                "alpha operator",
                "alpha user",
                "Anders Åberg",
                "Anna-Karin Svensson",
                "Ärla Andersson",
            ],
        ),
        ("070-12", ["Anna-Karin Svensson"]),
        ("+46 70 123", ["Anna-Karin Svensson"]),
        ("004670123", ["Anna-Karin Svensson"]),
        ("0709", []),
        ("08-765", ["Anders Åberg"]),
        ("1011", ["Örjan Ek"]),
        ("101", ["Zlatan Ibrahimović", "Åsa Öberg", "Ärla Andersson", "Örjan Ek"]),
        ("2000", ["Support Sverige"]),
        ("+46870000000", ["alpha user"]),  # the user's DID
        ("08-700 000 00", ["alpha user"]),
    ],
)
async def test_search_table(client: TestClient, q: str, expected: list[str]) -> None:
    h = bearer(await login(client, "alpha-user"))
    status, found = await call(client, "GET", "/directory", h, params={"q": q})
    assert status == 200, found
    assert [e["name"] for e in found] == expected


async def test_everything_alphabetical_swedish_then_starred_first(client: TestClient, world: World) -> None:
    h = bearer(await login(client, "alpha-user"))
    _, found = await call(client, "GET", "/directory", h)
    assert [e["name"] for e in found] == [
        "alpha admin",
        "alpha operator",
        "alpha user",
        "Anders Åberg",
        "Anna-Karin Svensson",
        "Support Sverige",
        "Zlatan Ibrahimović",
        "Åsa Öberg",
        "Ärla Andersson",
        "Örjan Ek",
    ]
    by_name = {e["name"]: e for e in found}
    assert by_name["Support Sverige"]["kind"] == "group"
    assert by_name["Anders Åberg"]["book"] == "personal"
    assert by_name["Anna-Karin Svensson"]["book"] == "shared"
    assert by_name["alpha user"]["numbers"] == [
        {"number": "1001", "label": "extension"},
        {"number": "+46870000000", "label": "direct"},
    ]
    group_id = by_name["Support Sverige"]["id"]
    await call(client, "PUT", f"/users/me/favorites/groups/{group_id}", h)
    await call(client, "PUT", f"/contacts/{by_name['Anna-Karin Svensson']['id']}/marks", h, {"vip": True})
    await call(client, "PUT", f"/users/me/favorites/users/{world.users['Örjan Ek']}", h)
    await call(client, "PUT", f"/contacts/{by_name['Anders Åberg']['id']}/marks", h, {"favorite": True})
    _, found = await call(client, "GET", "/directory", h)
    assert [e["name"] for e in found][:5] == [
        "Anders Åberg",
        "Anna-Karin Svensson",  # VIP: on the favorites page too
        "Support Sverige",
        "Örjan Ek",
        "alpha admin",
    ]
    _, shared = await call(client, "GET", "/phonebook", h, params={"q": "svensson"})
    assert [e["name"] for e in shared] == ["Anna-Karin Svensson"] and shared[0]["vip"]
    _, mine = await call(client, "GET", "/users/me/contacts", h, params={"q": "Å"})
    assert [e["name"] for e in mine] == ["Anders Åberg"]
    _, page = await call(client, "GET", "/directory", h, params={"limit": "2", "offset": "1"})
    assert [e["name"] for e in page] == ["Anna-Karin Svensson", "Support Sverige"]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "x"},
        {"offset": "-1"},
        {"favorites": "perhaps"},
        {"q": "x" * 101},
    ],
)
async def test_bad_query_parameters_are_400(client: TestClient, params: dict[str, str]) -> None:
    h = bearer(await login(client, "alpha-user"))
    status, err = await call(client, "GET", "/directory", h, params=params)
    assert status == 400 and err["error"]["code"] == "invalid", err


async def test_number_search_uses_the_number_index(db_pool: asyncpg.Pool, world: World) -> None:
    """A number prefix search finds contacts through contact_numbers_lookup, not by reading them all."""
    org = world.orgs["alpha"]
    async with db_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO contacts (organization_id, name)"
            " SELECT $1, 'K ' || i FROM generate_series(1, 3000) i",
            org,
        )
        await conn.execute(
            "INSERT INTO contact_numbers (contact_id, organization_id, position, number)"
            " SELECT id, organization_id, 0, '+4631' || lpad(id::text, 7, '0') FROM contacts",
        )
        await conn.execute("ANALYZE")
        sql = search.build_sql("shared", "number", False)
        plan = "\n".join(
            r[0] for r in await conn.fetch("EXPLAIN " + sql, org, 1, 10, 0, *["+46310001234%"] * 2)
        )
        assert "contact_numbers_lookup" in plan, plan
