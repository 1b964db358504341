"""caller_name() as a table: the callee's personal phonebook first, then colleagues (extension, DID),
then the shared phonebook; numbers as callers present them; never another user's or organization's
contacts; names safe for CALLERID."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.directory import contacts
from pbx_control.directory.caller_names import caller_name, caller_names
from pbx_control.directory.drafts import ContactDraft, check
from pbx_control.kernel.db import Conn
from pbx_control.testing import World, seed_world

pytestmark = [pytest.mark.integration, pytest.mark.directory]


async def _add(conn: Conn, org: int, owner: int | None, name: str, *numbers: str) -> None:
    contact = check(ContactDraft(name=name, numbers=[(n, "") for n in numbers]))
    async with conn.transaction():
        await contacts.insert_contact(conn, org, owner, contact)


@pytest.fixture
async def world(db_pool: asyncpg.Pool) -> World:
    world = await seed_world(db_pool)
    alpha, beta = world.orgs["alpha"], world.orgs["beta"]
    admin, operator = world.users["alpha-admin"], world.users["alpha-operator"]
    async with db_pool.acquire() as conn:
        await _add(conn, alpha, admin, "Privat Pelle", "070-111 11 11")
        await _add(conn, alpha, admin, "Aaron Also Pelle", "+46701111111")  # alphabetically first wins
        await _add(conn, alpha, None, "Delad Dora", "+46701111111", "+46702222222")
        await _add(conn, alpha, None, "Shared Name For 1001", "1001")
        await _add(conn, alpha, operator, "Operators Own", "+46703333333")
        await _add(conn, beta, None, "Beta Bertil", "+46704444444")
        await _add(conn, alpha, admin, 'Evil\u202e "Quote"\x07 Name', "+46705555555")
        await _add(conn, alpha, admin, "Ελένη 李", "+46706666666")
    return world


TABLE = [
    ("alpha", "alpha-admin", "+46701111111", "Aaron Also Pelle"),  # personal before shared
    ("alpha", "alpha-admin", "0701111111", "Aaron Also Pelle"),  # national form
    ("alpha", "alpha-admin", "46701111111", "Aaron Also Pelle"),  # carrier without +
    ("alpha", "alpha-admin", "0046701111111", "Aaron Also Pelle"),
    ("alpha", "alpha-operator", "+46701111111", "Delad Dora"),  # not the admin's own contacts
    ("alpha", None, "+46701111111", "Delad Dora"),
    ("alpha", "alpha-admin", "+46702222222", "Delad Dora"),
    ("alpha", "alpha-admin", "1001", "alpha user"),  # a colleague before the shared book
    ("alpha", "alpha-admin", "+46870000000", "alpha user"),  # a colleague's DID
    ("alpha", "alpha-admin", "+46703333333", None),  # the operator's personal contact
    ("alpha", "alpha-operator", "+46703333333", "Operators Own"),
    ("alpha", "alpha-admin", "+46704444444", None),  # another organization's phonebook
    ("beta", None, "+46704444444", "Beta Bertil"),
    ("beta", "beta-user", "1001", "beta user"),  # same extension, other organization
    ("beta", "beta-user", "+46870000000", None),  # alpha's DID is not beta's colleague
    ("alpha", "alpha-admin", "+46705555555", 'Evil "Quote" Name'),  # no control/format chars
    ("alpha", "alpha-admin", "+46706666666", "Ελένη 李"),
    ("alpha", "alpha-admin", "+46709999999", None),
    ("alpha", "alpha-admin", "", None),
    ("alpha", "alpha-admin", "anonymous", None),
    ("alpha", "alpha-admin", "<unknown>", None),
    ("alpha", "alpha-admin", "1001'; DROP TABLE contacts; --", None),
    ("nosuchorg", None, "+46701111111", None),
]


async def test_caller_name_table(db_pool: asyncpg.Pool, world: World) -> None:
    """One database for the whole table (seeding is the slow part); each row is checked with a pool
    and with a connection."""
    async with db_pool.acquire() as conn:
        for org, callee, number, expected in TABLE:
            callee_id = world.users[callee] if callee else None
            row = (org, callee, number)
            assert await caller_name(db_pool, org, callee_id, number) == expected, row
            assert await caller_name(conn, org, callee_id, number) == expected, row


async def test_caller_names_of_a_history_page_agree_with_caller_name(
    db_pool: asyncpg.Pool, world: World
) -> None:
    """The batch lookup (one query per history page) gives the same table, number by number."""
    by_asker: dict[tuple[str, str | None], dict[str, str | None]] = {}
    for org, callee, number, name in TABLE:
        by_asker.setdefault((org, callee), {})[number] = name
    for (org, callee), expected in by_asker.items():
        callee_id = world.users[callee] if callee else None
        assert await caller_names(db_pool, org, callee_id, list(expected)) == expected, (org, callee)


async def test_caller_name_is_one_indexed_query(db_pool: asyncpg.Pool, world: World) -> None:
    """Every branch of the lookup reads an index (the plan has no sequential scan of a big table)."""
    from pbx_control.directory.caller_names import _LOOKUP

    async with db_pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO contacts (organization_id, name)"
            " SELECT $1, 'K ' || i FROM generate_series(1, 3000) i",
            world.orgs["alpha"],
        )
        await conn.execute(
            "INSERT INTO contact_numbers (contact_id, organization_id, position, number)"
            " SELECT id, organization_id, 0, '+4631' || lpad(id::text, 7, '0') FROM contacts",
        )
        await conn.execute("ANALYZE")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN " + _LOOKUP, "alpha", world.users["alpha-admin"], "+46310001234"
            )
        )
    assert "contact_numbers_lookup" in plan, plan
    assert "Seq Scan on contact_numbers" not in plan and "Seq Scan on contacts" not in plan, plan
