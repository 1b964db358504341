"""Login, logout, token expiry and /users/me against a real database."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import PASSWORD, World, api_client, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.api]


async def test_login_ok(client: TestClient, world: World, db_pool: asyncpg.Pool) -> None:
    resp = await client.post("/api/v1/auth/login", json={"username": "alpha-admin", "password": PASSWORD})
    assert resp.status == 200
    body = await resp.json()
    assert len(body["token"]) >= 40 and body["expires_at"]
    assert body["user"]["id"] == world.users["alpha-admin"]
    assert body["user"]["role"] == "admin" and body["user"]["organization_id"] == world.orgs["alpha"]
    assert "password_hash" not in body["user"]
    stored = await db_pool.fetchval("SELECT token_sha256 FROM api_tokens")
    assert bytes(stored) != body["token"].encode() and len(stored) == 32


async def test_username_is_case_insensitive_at_login(client: TestClient) -> None:
    assert await login(client, "  Alpha-Admin ")


async def test_bad_login_gives_the_same_401(client: TestClient) -> None:
    answers = []
    for username, password in (("alpha-admin", "wrong password"), ("nobody", PASSWORD), ("", "")):
        resp = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
        answers.append((resp.status, await resp.json()))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 401 and answers[0][1]["error"]["code"] == "invalid_credentials"


async def test_logout_revokes_the_token(client: TestClient) -> None:
    token = await login(client, "alpha-user")
    assert (await client.get("/api/v1/users/me", headers=bearer(token))).status == 200
    resp = await client.post("/api/v1/auth/logout", headers=bearer(token))
    assert resp.status == 204
    resp = await client.get("/api/v1/users/me", headers=bearer(token))
    assert resp.status == 401
    assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_expired_and_unknown_tokens_are_401(client: TestClient, db_pool: asyncpg.Pool) -> None:
    token = await login(client, "alpha-user")
    await db_pool.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
    resp = await client.get("/api/v1/users/me", headers=bearer(token))
    assert resp.status == 401
    assert "expired" in (await resp.json())["error"]["message"]
    for junk in ("x", "x" * 1000, token + "x"):
        assert (await client.get("/api/v1/users/me", headers=bearer(junk))).status == 401


async def test_token_ttl_comes_from_settings(db_pool: asyncpg.Pool, world: World) -> None:
    from pbx_control.config import Settings

    async with api_client(db_pool, settings=Settings(token_ttl_s=60)) as client:
        await login(client, "alpha-user")
    left = await db_pool.fetchval("SELECT extract(epoch FROM expires_at - now()) FROM api_tokens")
    assert 50 < left <= 60


async def test_me_shows_own_devices_and_numbers_without_secrets(client: TestClient, world: World) -> None:
    token = await login(client, "beta-user")
    resp = await client.get("/api/v1/users/me", headers=bearer(token))
    assert resp.status == 200
    me = await resp.json()
    assert me["id"] == world.users["beta-user"] and me["extension"] == "1001"
    assert me["organization"]["slug"] == "beta"
    assert [d["id"] for d in me["devices"]] == [world.devices["beta-user"]]
    assert me["devices"][0]["sip_username"] == "beta_1001_1"
    assert [n["number"] for n in me["numbers"]] == ["+46870000001"]
    text = await resp.text()
    assert "md5" not in text and "password" not in text


async def test_me_for_admin_without_devices_and_for_platform(client: TestClient) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    me = await (await client.get("/api/v1/users/me", headers=admin)).json()
    assert me["devices"] == [] and me["numbers"] == []
    root = bearer(await login(client, "root"))
    me = await (await client.get("/api/v1/users/me", headers=root)).json()
    assert me["role"] == "platform" and me["organization"] is None and me["organization_id"] is None


async def test_password_change_ends_sessions_and_new_password_works(client: TestClient, world: World) -> None:
    user_token = await login(client, "alpha-user")
    admin_token = await login(client, "alpha-admin")
    resp = await client.patch(
        f"/api/v1/users/{world.users['alpha-user']}",
        json={"password": "a brand new one"},
        headers=bearer(admin_token),
    )
    assert resp.status == 200
    assert (await client.get("/api/v1/users/me", headers=bearer(user_token))).status == 401
    assert await login(client, "alpha-user", "a brand new one")
    resp = await client.post("/api/v1/auth/login", json={"username": "alpha-user", "password": PASSWORD})
    assert resp.status == 401


async def test_logs_never_hold_passwords_or_tokens(client: TestClient, world: World) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as events:
        token = await login(client, "alpha-admin")
        await client.post("/api/v1/auth/login", json={"username": "alpha-admin", "password": "nope nope"})
        await client.get("/api/v1/users/me", headers=bearer(token))
        await client.post(
            f"/api/v1/users/{world.users['alpha-user']}/devices",
            json={"kind": "desk", "password": "Sip-secret-123"},
            headers=bearer(token),
        )
    requests = [e for e in events if e["event"] == "http_request"]
    assert len(requests) == 4
    assert requests[2]["user_id"] == world.users["alpha-admin"]
    assert requests[2]["organization_id"] == world.orgs["alpha"]
    assert {"method", "path", "status", "duration_ms"} <= set(requests[2])
    text = repr(events)
    for secret in (token, PASSWORD, "nope nope", "Sip-secret-123", "Bearer"):
        assert secret not in text


async def test_purge_expired_tokens(client: TestClient, db_pool: asyncpg.Pool) -> None:
    from pbx_control.auth.tokens import purge_expired_tokens

    await login(client, "alpha-user")
    await login(client, "beta-user")
    await db_pool.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second'"
        " WHERE user_id = (SELECT id FROM users WHERE username = 'alpha-user')"
    )
    assert await purge_expired_tokens(db_pool) == 1
    assert await db_pool.fetchval("SELECT count(*) FROM api_tokens") == 1


async def test_concurrent_requests_share_token_queries_and_a_revoked_token_fails_at_once(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    """Concurrent requests' tokens are looked up together (kernel/batch.py), never cached: the
    request right after a logout, in the same storm, is 401."""
    import asyncio

    from pbx_control.api.context import TOKEN_LOOKUPS

    lookups = client.app[TOKEN_LOOKUPS]
    good, gone = await login(client, "alpha-user"), await login(client, "alpha-admin")
    before = lookups.queries
    answers = await asyncio.gather(
        *(client.get("/api/v1/users/me", headers=bearer(t)) for t in [good, gone, "junk"] * 20)
    )
    assert [r.status for r in answers] == [200, 200, 401] * 20
    assert lookups.queries - before < 20  # 60 requests, a few shared queries
    assert (await client.post("/api/v1/auth/logout", headers=bearer(gone))).status == 204
    answers = await asyncio.gather(
        *(client.get("/api/v1/users/me", headers=bearer(t)) for t in [good, gone] * 20)
    )
    assert [r.status for r in answers] == [200, 401] * 20
