"""Org admins manage users and numbers; bad input is a 4xx JSON error and changes nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.testing import World, bearer, login, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]

NEW_USER = {"extension": "1010", "name": "Ny Användare", "username": "ny", "password": "long enough"}


async def _refused(
    client: TestClient, method: str, path: str, body: Any, headers: dict[str, str], status: int, *words: str
) -> None:
    kwargs: dict[str, Any] = {"headers": headers}
    if isinstance(body, bytes):
        kwargs["data"] = body
    else:
        kwargs["json"] = body
    resp = await client.request(method, PREFIX + path, **kwargs)
    text = await resp.text()
    assert resp.status == status, (method, path, body, text)
    assert resp.content_type == "application/json"
    message = (await resp.json())["error"]["message"]
    for word in words:
        assert word in message, (body, message)


async def test_create_get_update_delete_user(client: TestClient, admin: dict[str, str]) -> None:
    name = 'Kalle "KA" Anka\nÖberg 林'
    resp = await client.post(
        f"{PREFIX}/users", json={**NEW_USER, "name": name, "role": "operator"}, headers=admin
    )
    assert resp.status == 201
    user = await resp.json()
    assert user["name"] == name and user["role"] == "operator" and user["language"] == "sv"
    got = await (await client.get(f"{PREFIX}/users/{user['id']}", headers=admin)).json()
    assert got == user
    resp = await client.patch(
        f"{PREFIX}/users/{user['id']}",
        json={"email": "ny@example.se", "language": "en", "ring_time": 45},
        headers=admin,
    )
    changed = await resp.json()
    assert (changed["email"], changed["language"], changed["ring_time"]) == ("ny@example.se", "en", 45)
    resp = await client.patch(f"{PREFIX}/users/{user['id']}", json={"email": None}, headers=admin)
    assert (await resp.json())["email"] is None
    assert await login(client, "ny", "long enough")
    assert (await client.delete(f"{PREFIX}/users/{user['id']}", headers=admin)).status == 204
    assert (await client.get(f"{PREFIX}/users/{user['id']}", headers=admin)).status == 404


async def test_bad_user_input_changes_nothing(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    before = await snapshot(db_pool)
    uid = world.users["alpha-user"]
    cases: list[tuple[str, str, object, int, *tuple[str, ...]]] = [  # method, path, body, status, words
        ("POST", "/users", {**NEW_USER, "extension": "0123"}, 400, "extension", "not start with 0"),
        ("POST", "/users", {**NEW_USER, "extension": "1"}, 400, "extension"),
        ("POST", "/users", {**NEW_USER, "extension": 1010}, 400, "extension"),
        ("POST", "/users", {**NEW_USER, "username": "Ny"}, 400, "lowercase"),
        ("POST", "/users", {**NEW_USER, "password": "short"}, 400, "password"),
        ("POST", "/users", {**NEW_USER, "name": "   "}, 400, "name"),
        ("POST", "/users", {**NEW_USER, "role": "platform"}, 400, "role"),
        ("POST", "/users", {**NEW_USER, "email": "nope"}, 400, "email"),
        ("POST", "/users", {**NEW_USER, "ring_time": 10**30}, 400, "ring_time"),
        ("POST", "/users", {**NEW_USER, "extension": "1001"}, 409, "extension"),
        ("POST", "/users", {**NEW_USER, "username": "beta-user"}, 409, "username"),
        ("POST", "/users", {k: v for k, v in NEW_USER.items() if k != "name"}, 400, "name: is required"),
        ("POST", "/users", b"{not json", 400, "JSON"),
        ("POST", "/users", {**NEW_USER, "name": "nul\u0000"}, 400, "NUL"),
        ("PATCH", f"/users/{uid}", {}, 400, "nothing to update"),
        ("PATCH", f"/users/{uid}", {"name": None}, 400, "name"),
        ("PATCH", f"/users/{uid}", {"extension": "1002"}, 409, "extension"),
        ("PATCH", f"/users/{uid}", {"name": "ok", "extension": "x"}, 400, "extension"),
        ("PATCH", f"/users/{uid}", {"role": "platform"}, 400, "role"),
        ("PATCH", f"/users/{world.users['alpha-admin']}", {"role": "user"}, 409, "admin"),
        ("DELETE", f"/users/{world.users['alpha-admin']}", None, 409, "admin"),
        ("GET", "/users/99999999999999999999", None, 404),
    ]
    for method, path, body, status, *words in cases:
        await _refused(client, method, path, body, admin, status, *words)
    assert await snapshot(db_pool) == before


async def test_numbers(client: TestClient, world: World, admin: dict[str, str]) -> None:
    root = bearer(await login(client, "root"))
    given = {"first": "+46812345600", "last": "+46812345699"}
    resp = await client.post(
        f"{PREFIX}/organizations/{world.orgs['alpha']}/number-ranges", json=given, headers=root
    )
    assert resp.status == 201, await resp.text()
    resp = await client.post(f"{PREFIX}/numbers", json={"number": "08-123 456 78"}, headers=admin)
    assert resp.status == 201
    number = await resp.json()
    assert number["number"] == "+46812345678" and number["user_id"] is None
    resp = await client.patch(
        f"{PREFIX}/numbers/{number['id']}", json={"user_id": world.users["alpha-user"]}, headers=admin
    )
    assert (await resp.json())["user_id"] == world.users["alpha-user"]
    resp = await client.patch(f"{PREFIX}/numbers/{number['id']}", json={"user_id": None}, headers=admin)
    assert (await resp.json())["user_id"] is None
    listed = await (await client.get(f"{PREFIX}/numbers", headers=admin)).json()
    assert "+46812345678" in [n["number"] for n in listed]
    assert (await client.delete(f"{PREFIX}/numbers/{number['id']}", headers=admin)).status == 204


async def test_bad_number_input_changes_nothing(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    before = await snapshot(db_pool)
    nid = world.numbers["alpha-user"]
    cases = [
        ("POST", "/numbers", {"number": "12345"}, 400, "international"),
        ("POST", "/numbers", {"number": "08-CALL-NOW"}, 400, "contains"),
        ("POST", "/numbers", {"number": "+46870000001"}, 403, "number ranges"),  # beta's number
        ("POST", "/numbers", {"number": "0701234567", "user_id": 0}, 400, "user_id"),
        ("POST", "/numbers", {"number": "0701234567", "user_id": 2**63}, 400, "user_id"),
        ("POST", "/numbers", {}, 400, "number: is required"),
        ("PATCH", f"/numbers/{nid}", {}, 400, "user_id: is required"),
        ("PATCH", f"/numbers/{nid}", {"user_id": "abc"}, 400, "user_id"),
    ]
    for method, path, body, status, *words in cases:
        await _refused(client, method, path, body, admin, status, *words)
    assert await snapshot(db_pool) == before
