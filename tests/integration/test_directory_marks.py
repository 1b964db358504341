"""Marks on contacts (favorite, VIP, blocked) and the raw caller list, and their projection into
caller_lists, the table the routing decision reads: one row per contact number, following every
change of mark, number and contact, in the same transaction."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import World, bearer, login
from tests.support.directory import call, caller_list, directory_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.directory]

BERIT = {"name": "Berit", "numbers": [{"number": "070-111 11 11"}, {"number": "1002"}]}
MOBILE = "+46701111111"


@pytest.fixture
async def tokens(client: TestClient) -> dict[str, dict[str, str]]:
    names = ("alpha-admin", "alpha-user", "alpha-operator", "beta-user")
    return {n: bearer(await login(client, n)) for n in names}


async def test_vip_and_blocked_follow_marks_numbers_and_deletion(
    client: TestClient, tokens: dict[str, dict[str, str]], world: World, db_pool: asyncpg.Pool
) -> None:
    h, me = tokens["alpha-user"], world.users["alpha-user"]
    _, berit = await call(client, "POST", "/users/me/contacts", h, BERIT)
    cid = berit["id"]
    assert await caller_list(db_pool, me) == set()

    status, got = await call(client, "PUT", f"/contacts/{cid}/marks", h, {"vip": True})
    assert status == 200 and got == {"favorite": False, "vip": True, "blocked": False}
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", cid), ("1002", "vip", cid)}

    # Blocking replaces VIP; favorite is independent.
    _, got = await call(client, "PUT", f"/contacts/{cid}/marks", h, {"blocked": True, "favorite": True})
    assert got == {"favorite": True, "vip": False, "blocked": True}
    assert await caller_list(db_pool, me) == {(MOBILE, "blocked", cid), ("1002", "blocked", cid)}

    # New numbers: the rows follow (old number out, new one in).
    await call(client, "PATCH", f"/contacts/{cid}", h, {"numbers": [{"number": "+46 8 555 000 00"}]})
    assert await caller_list(db_pool, me) == {("+46855500000", "blocked", cid)}

    _, shown = await call(client, "GET", f"/contacts/{cid}", h)
    assert (shown["favorite"], shown["vip"], shown["blocked"]) == (True, False, True)

    await call(client, "PUT", f"/contacts/{cid}/marks", h, {"blocked": False})
    assert await caller_list(db_pool, me) == set()
    await call(client, "PUT", f"/contacts/{cid}/marks", h, {"vip": True})
    assert await caller_list(db_pool, me) == {("+46855500000", "vip", cid)}
    status, _ = await call(client, "DELETE", f"/contacts/{cid}", h)
    assert status == 204
    assert await caller_list(db_pool, me) == set()
    assert await db_pool.fetchval("SELECT count(*) FROM contact_marks") == 0


async def test_shared_contact_marks_are_per_user(
    client: TestClient, tokens: dict[str, dict[str, str]], world: World, db_pool: asyncpg.Pool
) -> None:
    _, shared = await call(client, "POST", "/phonebook", tokens["alpha-admin"], BERIT)
    cid = shared["id"]
    await call(client, "PUT", f"/contacts/{cid}/marks", tokens["alpha-user"], {"vip": True})
    await call(client, "PUT", f"/contacts/{cid}/marks", tokens["alpha-operator"], {"blocked": True})
    user, operator = world.users["alpha-user"], world.users["alpha-operator"]
    assert await caller_list(db_pool, user) == {(MOBILE, "vip", cid), ("1002", "vip", cid)}
    assert await caller_list(db_pool, operator) == {(MOBILE, "blocked", cid), ("1002", "blocked", cid)}
    assert await caller_list(db_pool, world.users["alpha-admin"]) == set()
    # Each sees their own marks on the same contact.
    _, as_user = await call(client, "GET", f"/contacts/{cid}", tokens["alpha-user"])
    _, as_admin = await call(client, "GET", f"/contacts/{cid}", tokens["alpha-admin"])
    assert as_user["vip"] and not as_admin["vip"]
    # An editor changes the number: both users' lists follow; deleting it empties both.
    await call(
        client, "PATCH", f"/contacts/{cid}", tokens["alpha-operator"], {"numbers": [{"number": "1003"}]}
    )
    assert await caller_list(db_pool, user) == {("1003", "vip", cid)}
    assert await caller_list(db_pool, operator) == {("1003", "blocked", cid)}
    await call(client, "DELETE", f"/contacts/{cid}", tokens["alpha-admin"])
    assert await caller_list(db_pool, user) == await caller_list(db_pool, operator) == set()


async def test_two_contacts_with_one_number(
    client: TestClient, tokens: dict[str, dict[str, str]], world: World, db_pool: asyncpg.Pool
) -> None:
    h, me = tokens["alpha-user"], world.users["alpha-user"]
    _, a = await call(client, "POST", "/users/me/contacts", h, {"name": "A", "numbers": [{"number": MOBILE}]})
    _, b = await call(
        client, "POST", "/phonebook", tokens["alpha-admin"], {"name": "B", "numbers": [{"number": MOBILE}]}
    )
    await call(client, "PUT", f"/contacts/{a['id']}/marks", h, {"vip": True})
    await call(client, "PUT", f"/contacts/{b['id']}/marks", h, {"vip": True})
    assert {(n, k) for n, k, _ in await caller_list(db_pool, me)} == {(MOBILE, "vip")}
    # Unmarking one keeps the number VIP through the other.
    await call(client, "PUT", f"/contacts/{a['id']}/marks", h, {"vip": False})
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", b["id"])}
    await call(client, "PUT", f"/contacts/{a['id']}/marks", h, {"vip": True})
    await call(client, "DELETE", f"/contacts/{b['id']}", tokens["alpha-admin"])
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", a["id"])}


async def test_raw_caller_list(
    client: TestClient, tokens: dict[str, dict[str, str]], world: World, db_pool: asyncpg.Pool
) -> None:
    h, me = tokens["alpha-user"], world.users["alpha-user"]
    status, entry = await call(
        client, "POST", "/users/me/caller-lists", h, {"number": "0701111111", "kind": "blocked"}
    )
    assert status == 201, entry
    assert (entry["number"], entry["kind"], entry["contact_id"]) == (MOBILE, "blocked", None)
    # Making the same number VIP replaces the raw block.
    _, vip = await call(
        client, "POST", "/users/me/caller-lists", h, {"number": "+46701111111", "kind": "vip"}
    )
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", None)}
    # A contact mark on the same number does not duplicate it; removing the mark keeps the raw entry.
    _, berit = await call(client, "POST", "/users/me/contacts", h, BERIT)
    await call(client, "PUT", f"/contacts/{berit['id']}/marks", h, {"vip": True})
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", None), ("1002", "vip", berit["id"])}
    _, listed = await call(client, "GET", "/users/me/caller-lists", h)
    assert {(e["number"], e["contact_name"]) for e in listed} == {(MOBILE, None), ("1002", "Berit")}
    await call(client, "PUT", f"/contacts/{berit['id']}/marks", h, {"vip": False})
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", None)}
    # Removing a raw entry while a contact still asks for the number leaves the contact's row.
    await call(client, "PUT", f"/contacts/{berit['id']}/marks", h, {"vip": True})
    status, _ = await call(client, "DELETE", f"/users/me/caller-lists/{vip['id']}", h)
    assert status == 204
    assert await caller_list(db_pool, me) == {(MOBILE, "vip", berit["id"]), ("1002", "vip", berit["id"])}
    # A contact's entry is changed through the contact; someone else's entry does not exist.
    contact_entry = await db_pool.fetchval("SELECT id FROM caller_lists WHERE number = '1002'")
    status, err = await call(client, "DELETE", f"/users/me/caller-lists/{contact_entry}", h)
    assert status == 409 and "contact" in err["error"]["message"]
    status, _ = await call(client, "DELETE", f"/users/me/caller-lists/{contact_entry}", tokens["alpha-admin"])
    assert status == 404
    _, others = await call(client, "GET", "/users/me/caller-lists", tokens["alpha-admin"])
    assert others == []


@pytest.mark.parametrize(
    ("path", "body", "status", "word"),
    [
        ("/users/me/caller-lists", {"number": "07011x", "kind": "vip"}, 400, "malformed number"),
        ("/users/me/caller-lists", {"number": "", "kind": "vip"}, 400, "empty"),
        ("/users/me/caller-lists", {"number": "0701111111", "kind": "friend"}, 400, "kind"),
        ("/users/me/caller-lists", {"number": "0701111111"}, 400, "kind: is required"),
        ("/contacts/{cid}/marks", {"vip": True, "blocked": True}, 400, "both"),
        ("/contacts/{cid}/marks", {"vip": "maybe"}, 400, "vip"),
        ("/contacts/987654321/marks", {"vip": True}, 404, "no such contact"),
        ("/users/me/favorites/users/{me}", None, 400, "yourself"),
        ("/users/me/favorites/users/{beta}", None, 404, "no such user"),
        ("/users/me/favorites/groups/987654", None, 404, "no such answer group"),
    ],
)
async def test_bad_marks_are_refused_and_change_nothing(
    client: TestClient,
    tokens: dict[str, dict[str, str]],
    world: World,
    db_pool: asyncpg.Pool,
    path: str,
    body: dict | None,
    status: int,
    word: str,
) -> None:
    h = tokens["alpha-user"]
    _, berit = await call(client, "POST", "/users/me/contacts", h, BERIT)
    before = await directory_snapshot(db_pool)
    path = path.format(cid=berit["id"], me=world.users["alpha-user"], beta=world.users["beta-user"])
    method = "PUT" if "marks" in path or "favorites" in path else "POST"
    got, err = await call(client, method, path, h, body)
    assert got == status, err
    assert word in err["error"]["message"], err
    assert await directory_snapshot(db_pool) == before


async def test_starred_colleagues_come_first(
    client: TestClient, tokens: dict[str, dict[str, str]], world: World
) -> None:
    h = tokens["alpha-user"]
    _, listed = await call(client, "GET", "/directory", h)
    names = [e["name"] for e in listed]
    assert names == ["alpha admin", "alpha operator", "alpha user"]
    status, _ = await call(client, "PUT", f"/users/me/favorites/users/{world.users['alpha-operator']}", h)
    assert status == 204
    _, listed = await call(client, "GET", "/directory", h)
    assert [(e["name"], e["favorite"]) for e in listed][:2] == [
        ("alpha operator", True),
        ("alpha admin", False),
    ]
    _, starred = await call(client, "GET", "/directory?favorites=true", h)
    assert [e["id"] for e in starred] == [world.users["alpha-operator"]]
    # Stars are per user.
    _, theirs = await call(client, "GET", "/directory?favorites=true", tokens["alpha-admin"])
    assert theirs == []
    await call(client, "DELETE", f"/users/me/favorites/users/{world.users['alpha-operator']}", h)
    _, starred = await call(client, "GET", "/directory?favorites=true", h)
    assert starred == []
