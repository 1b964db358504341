"""Every error is JSON {"error": {"code", "message"}}: unknown paths, wrong methods, malformed
JSON, validation errors, missing tokens and unexpected exceptions (no traceback leaked).
No database: the pool is a fake."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.api.errors import snake_case
from pbx_control.db.pool import DatabaseUnavailable
from pbx_control.kernel.errors import Unavailable
from pbx_control.testing import composed_app

pytestmark = [pytest.mark.unit, pytest.mark.api]


class ExplodingPool:
    """Any query fails like a bug deep inside would."""

    async def fetchrow(self, *args: Any) -> Any:
        raise RuntimeError("secret internals: password=hunter2")

    fetchval = fetch = execute = fetchrow


@pytest.fixture
async def client() -> AsyncIterator[TestClient]:
    app = composed_app(ExplodingPool())  # type: ignore[arg-type]  # a pool that fails every query
    async with TestClient(TestServer(app)) as c:
        yield c


async def _error(resp: Any, status: int, code: str) -> str:
    assert resp.status == status
    assert resp.content_type == "application/json"
    body = await resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    assert resp.headers.get("X-Request-Id")
    return body["error"]["message"]


async def test_unknown_path(client: TestClient) -> None:
    message = await _error(await client.get("/api/v1/nope"), 404, "not_found")
    assert "/api/v1/nope" in message
    await _error(await client.get("/nope"), 404, "not_found")  # "/" is the web app (api/webapp.py)
    await _error(await client.get("/api/v1/users/abc"), 404, "not_found")


async def test_wrong_method(client: TestClient) -> None:
    resp = await client.put("/api/v1/auth/login")
    message = await _error(resp, 405, "method_not_allowed")
    assert "POST" in message and "POST" in resp.headers["Allow"]


async def test_malformed_json(client: TestClient) -> None:
    resp = await client.post("/api/v1/auth/login", data=b'{"username": "a",')
    await _error(resp, 400, "malformed_json")


async def test_validation_error_names_the_field(client: TestClient) -> None:
    resp = await client.post("/api/v1/auth/login", json={"username": "alice"})
    message = await _error(resp, 400, "validation_error")
    assert "password: is required" in message
    resp = await client.post("/api/v1/auth/login", json={"username": 5, "password": "x", "extra": 1})
    message = await _error(resp, 400, "validation_error")
    assert "username:" in message and "extra: is not a known field" in message
    resp = await client.post("/api/v1/auth/login", json=["not", "an", "object"])
    await _error(resp, 400, "validation_error")


async def test_body_too_large(client: TestClient) -> None:
    resp = await client.post("/api/v1/auth/login", data=b"x" * (70 * 1024))
    await _error(resp, 413, "request_entity_too_large")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users/me"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/auth/logout"),
        ("DELETE", "/api/v1/devices/1"),
        ("GET", "/api/v1/organizations"),
    ],
)
async def test_protected_routes_need_a_token(client: TestClient, method: str, path: str) -> None:
    resp = await client.request(method, path)
    await _error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"
    resp = await client.request(method, path, headers={"Authorization": "Basic dXNlcjpwdw=="})
    await _error(resp, 401, "unauthorized")


async def test_unexpected_exception_is_a_bare_500(
    client: TestClient, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await client.post("/api/v1/auth/login", json={"username": "alice", "password": "pw"})
    message = await _error(resp, 500, "internal_error")
    assert "hunter2" not in message and "Traceback" not in message
    assert "hunter2" not in await resp.text()


async def test_token_lookup_failure_is_500_not_401(client: TestClient) -> None:
    resp = await client.get("/api/v1/users/me", headers={"Authorization": "Bearer abc"})
    await _error(resp, 500, "internal_error")


class FailingPool:
    """Every query fails with `exc`, as a database that is gone would."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    async def fetchrow(self, *args: Any) -> Any:
        raise self.exc

    fetchval = fetch = execute = fetchrow


@pytest.mark.faults
@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (DatabaseUnavailable(), "database_unavailable"),  # the pool's acquire: refused, none free
        (asyncpg.ConnectionDoesNotExistError("connection was closed"), "database_unavailable"),
        (asyncpg.AdminShutdownError("terminating connection due to administrator command"),
         "database_unavailable"),
        (asyncpg.CannotConnectNowError("the database system is starting up"), "database_unavailable"),
        (asyncpg.TooManyConnectionsError("too many clients"), "database_unavailable"),
        (asyncpg.InvalidCatalogNameError('database "pbx" does not exist'), "database_unavailable"),
        (TimeoutError(), "timeout"),  # a query on a stalled connection (command_timeout)
        (Unavailable("too many logins at once", code="busy"), "busy"),
    ],
)  # fmt: skip
async def test_database_gone_is_503_with_retry_after(exc: BaseException, code: str) -> None:
    async with TestClient(TestServer(composed_app(FailingPool(exc)))) as c:  # type: ignore[arg-type]
        for method, path in (("POST", "/api/v1/auth/login"), ("GET", "/api/v1/users/me")):
            body = {"username": "alice", "password": "pw"} if method == "POST" else None
            resp = await c.request(method, path, json=body, headers={"Authorization": "Bearer abc"})
            await _error(resp, 503, code)
            assert resp.headers["Retry-After"] == "1"


async def test_request_id_is_echoed_when_sane(client: TestClient) -> None:
    resp = await client.get("/api/v1/nope", headers={"X-Request-Id": "abc-123"})
    assert resp.headers["X-Request-Id"] == "abc-123"
    resp = await client.get("/api/v1/nope", headers={"X-Request-Id": "bad id\twith junk"})
    assert resp.headers["X-Request-Id"] != "bad id\twith junk"


async def test_health_degraded_when_database_fails(client: TestClient) -> None:
    resp = await client.get("/api/v1/health")
    assert resp.status == 503
    body = await resp.json()
    assert body["status"] == "degraded" and body["database"] == {"ok": False}
    assert set(body) >= {"status", "database", "ami", "agi"}


async def test_openapi_is_public(client: TestClient) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    assert (await resp.json())["openapi"] == "3.1.0"


def test_snake_case() -> None:
    assert snake_case("Method Not Allowed") == "method_not_allowed"
    assert snake_case("Request Entity Too Large") == "request_entity_too_large"
    assert snake_case("") == "error"
