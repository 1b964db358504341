"""Failed-login throttling, changing my own password, signing out everywhere, the expired-token
purge and what a username conflict says (issue 13, finding 7)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.config import Settings
from pbx_control.testing import PASSWORD, World, api_client, bearer, login
from tests.support.clock import FixedClock
from tests.support.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.security]

LIMITS = Settings(login_max_failures=3, login_max_failures_per_address=6, login_window_s=60)
LOGIN = "/api/v1/auth/login"


@pytest.fixture
async def throttled(db_pool: asyncpg.Pool, world: World, clock: FixedClock) -> AsyncIterator[TestClient]:
    async with api_client(db_pool, settings=LIMITS, clock=clock) as c:
        yield c


@pytest.fixture
def bcrypt_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check login makes (bcrypt), counted."""
    from pbx_control.auth import login as auth_login
    from pbx_control.auth.passwords import verify_password as real

    calls: list[str] = []

    async def counted(password: str, password_hash: str | None) -> bool:
        calls.append(password)
        return await real(password, password_hash)

    monkeypatch.setattr(auth_login, "verify_password", counted)
    return calls


async def _post_login(
    client: TestClient, username: str, password: str
) -> tuple[int, Any, aiohttp.ClientResponse]:
    resp = await client.post(LOGIN, json={"username": username, "password": password})
    return resp.status, await resp.json(), resp


async def test_failed_logins_are_throttled_per_user_until_the_window_passes(
    throttled: TestClient, clock: FixedClock, bcrypt_checks: list[str]
) -> None:
    for _ in range(3):
        assert (await _post_login(throttled, "alpha-user", "wrong password"))[0] == 401
    assert len(bcrypt_checks) == 3
    # Over the bound: 429, even with the right password, and no password is checked.
    for password in ("wrong password", PASSWORD, PASSWORD):
        status, body, resp = await _post_login(throttled, "Alpha-User ", password)
        assert status == 429, body
        assert body["error"]["code"] == "too_many_attempts" and body["error"]["message"]
        assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert len(bcrypt_checks) == 3
    # Another user (same address, below its own bound) is not affected.
    assert await login(throttled, "alpha-admin")
    clock.advance(timedelta(seconds=59))
    assert (await _post_login(throttled, "alpha-user", PASSWORD))[0] == 429
    clock.advance(timedelta(seconds=1))
    assert await login(throttled, "alpha-user")


async def test_a_success_resets_the_users_count(throttled: TestClient) -> None:
    for _ in range(2):
        assert (await _post_login(throttled, "beta-user", "wrong password"))[0] == 401
    assert await login(throttled, "beta-user")
    for _ in range(2):
        assert (await _post_login(throttled, "beta-user", "wrong password"))[0] == 401
    assert await login(throttled, "beta-user")


async def test_failures_are_counted_per_address(throttled: TestClient, clock: FixedClock) -> None:
    # Six failures from 127.0.0.1 over several usernames (none at its own bound of 3)...
    for name in ("nobody-1", "nobody-2", "nobody-3", "alpha-admin", "alpha-admin", "beta-admin"):
        assert (await _post_login(throttled, name, "wrong password"))[0] == 401
    # ... and this address is refused, even for a user with no failures of their own.
    status, _, resp = await _post_login(throttled, "beta-user", PASSWORD)
    assert status == 429 and int(resp.headers["Retry-After"]) >= 1
    # The same user from another address is counted apart.
    url = throttled.make_url(LOGIN)
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0))
    async with aiohttp.ClientSession(connector=connector) as other:
        resp2 = await other.post(url, json={"username": "beta-user", "password": PASSWORD})
        assert resp2.status == 200, await resp2.text()
    clock.advance(timedelta(seconds=60))
    assert await login(throttled, "beta-user")


async def test_a_concurrent_flood_checks_no_more_passwords_than_the_bound(
    throttled: TestClient, bcrypt_checks: list[str]
) -> None:
    answers = await asyncio.gather(*(_post_login(throttled, "alpha-user", f"guess {i}") for i in range(30)))
    statuses = sorted(a[0] for a in answers)
    assert statuses.count(401) == 3 and statuses.count(429) == 27
    assert len(bcrypt_checks) == 3


# --- my own password, sign out everywhere ----------------------------------------------------------

PW = "/api/v1/users/me/password"


async def test_change_my_password(client: TestClient, world: World) -> None:
    current = await login(client, "alpha-user")
    other = await login(client, "alpha-user")
    colleague = await login(client, "alpha-admin")
    resp = await client.post(
        PW, json={"current": "not it at all", "new": "a brand new one"}, headers=bearer(current)
    )
    assert resp.status == 403 and (await resp.json())["error"]["code"] == "forbidden"
    resp = await client.post(PW, json={"current": PASSWORD, "new": "short"}, headers=bearer(current))
    assert resp.status == 400 and "at least" in (await resp.json())["error"]["message"]
    resp = await client.post(PW, json={"current": PASSWORD}, headers=bearer(current))
    assert resp.status == 400
    # Nothing changed so far: every token still works.
    assert (await client.get("/api/v1/users/me", headers=bearer(other))).status == 200
    resp = await client.post(
        PW, json={"current": PASSWORD, "new": "a brand new one"}, headers=bearer(current)
    )
    assert resp.status == 204, await resp.text()
    # The token that changed it stays; my other sessions end; a colleague's stay.
    assert (await client.get("/api/v1/users/me", headers=bearer(current))).status == 200
    assert (await client.get("/api/v1/users/me", headers=bearer(other))).status == 401
    assert (await client.get("/api/v1/users/me", headers=bearer(colleague))).status == 200
    assert (await _post_login(client, "alpha-user", PASSWORD))[0] == 401
    assert await login(client, "alpha-user", "a brand new one")


async def test_platform_admin_changes_own_password(client: TestClient) -> None:
    token = await login(client, "root")
    resp = await client.post(
        PW, json={"current": PASSWORD, "new": "platform secret 2"}, headers=bearer(token)
    )
    assert resp.status == 204
    assert await login(client, "root", "platform secret 2")


async def test_wrong_current_passwords_are_throttled(throttled: TestClient) -> None:
    token = await login(throttled, "alpha-user")
    for _ in range(3):
        resp = await throttled.post(
            PW, json={"current": "guess guess", "new": "a brand new one"}, headers=bearer(token)
        )
        assert resp.status == 403
    resp = await throttled.post(
        PW, json={"current": PASSWORD, "new": "a brand new one"}, headers=bearer(token)
    )
    assert resp.status == 429 and resp.headers["Retry-After"]


async def test_logout_all(client: TestClient) -> None:
    mine = [await login(client, "beta-user") for _ in range(3)]
    colleague = await login(client, "beta-admin")
    resp = await client.post("/api/v1/auth/logout-all", headers=bearer(mine[0]))
    assert resp.status == 204
    for token in mine:
        assert (await client.get("/api/v1/users/me", headers=bearer(token))).status == 401
    assert (await client.get("/api/v1/users/me", headers=bearer(colleague))).status == 200
    assert (await client.post("/api/v1/auth/logout-all")).status == 401


# --- the expired-token purge ---------------------------------------------------------------------------


async def test_the_service_purges_expired_tokens_periodically(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    from pbx_control.auth.purge import TokenPurgeWorker

    await login(client, "alpha-user")
    await login(client, "beta-user")
    worker = TokenPurgeWorker(db_pool, interval_s=0.05)
    await worker.start()
    try:
        for _ in range(100):  # the first run, at start, finds nothing expired
            if worker.runs:
                break
            await asyncio.sleep(0.01)
        assert worker.runs >= 1 and worker.purged == 0
        await db_pool.execute(
            "UPDATE api_tokens SET expires_at = now() - interval '1 second'"
            " WHERE user_id = (SELECT id FROM users WHERE username = 'alpha-user')"
        )
        for _ in range(100):
            if worker.purged:
                break
            await asyncio.sleep(0.02)
        assert worker.purged == 1 and worker.runs >= 2
        assert await db_pool.fetchval("SELECT count(*) FROM api_tokens") == 1
    finally:
        await worker.stop()


async def test_the_service_runs_the_purge_with_the_api(
    db_url: str, db_pool: asyncpg.Pool, world: World, tmp_path: Path
) -> None:
    from pbx_control.auth.purge import TokenPurgeWorker
    from pbx_control.auth.tokens import issue_token
    from pbx_control.service import ControlService

    (tmp_path / "etc").mkdir()
    settings = Settings(
        database_url=db_url,
        api_port=free_port(),
        components=("api",),
        asterisk_etc=tmp_path / "etc",
        prompts_dir=tmp_path / "prompts",
        token_purge_interval_s=1,
    )
    svc = ControlService(settings)
    await svc.start()
    try:
        (worker,) = [w for w in svc.workers if isinstance(w, TokenPurgeWorker)]
        await issue_token(db_pool, world.users["alpha-user"], 3600)
        await db_pool.execute("UPDATE api_tokens SET expires_at = now() - interval '1 second'")
        await issue_token(db_pool, world.users["beta-user"], 3600)
        left = 2
        for _ in range(100):  # the purge runs every second
            left = await db_pool.fetchval("SELECT count(*) FROM api_tokens")
            if left == 1:
                break
            await asyncio.sleep(0.05)
        assert left == 1 and worker.purged >= 1
    finally:
        await svc.stop()


# --- a username conflict says nothing of another organization -----------------------------------------


async def test_username_conflict_does_not_confirm_another_organization(
    client: TestClient, world: World
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    body = {"extension": "1077", "name": "Copy", "username": "beta-user", "password": "long enough pw"}
    resp = await client.post("/api/v1/users", json=body, headers=admin)
    assert resp.status == 409
    error = (await resp.json())["error"]
    assert error == {"code": "conflict", "message": "username is not available"}
    resp = await client.patch(
        f"/api/v1/users/{world.users['alpha-user']}", json={"username": "beta-admin"}, headers=admin
    )
    assert resp.status == 409 and (await resp.json())["error"]["message"] == "username is not available"
