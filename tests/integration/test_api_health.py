"""GET /health: no token; database checked live; AMI/AGI from the service wiring's probe."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from pbx_control.api.app import PREFIX
from pbx_control.testing import api_client

pytestmark = [pytest.mark.integration, pytest.mark.api]


async def test_health_ok_without_probe(db_pool: asyncpg.Pool) -> None:
    async with api_client(db_pool) as client:
        resp = await client.get(f"{PREFIX}/health")
        assert resp.status == 200
        body = await resp.json()
        assert body["status"] == "ok" and body["database"] == {"ok": True}
        assert "ami" in body and "agi" in body


async def test_health_reports_the_probe(db_pool: asyncpg.Pool) -> None:
    async def probe() -> dict:
        return {"ami": {"ok": True, "connected": True}, "agi": {"ok": True, "port": 4573}}

    async with api_client(db_pool, health_probe=probe) as client:
        body = await (await client.get(f"{PREFIX}/health")).json()
        assert body == {
            "status": "ok",
            "database": {"ok": True},
            "ami": {"ok": True, "connected": True},
            "agi": {"ok": True, "port": 4573},
        }


async def test_a_failed_component_degrades(db_pool: asyncpg.Pool) -> None:
    async def probe() -> dict:
        return {"ami": {"ok": False, "error": "connection refused"}, "agi": {"ok": True}}

    async with api_client(db_pool, health_probe=probe) as client:
        resp = await client.get(f"{PREFIX}/health")
        assert resp.status == 503
        body = await resp.json()
        assert body["status"] == "degraded" and body["database"] == {"ok": True}
        assert body["ami"]["error"] == "connection refused"


async def test_a_broken_or_slow_probe_degrades(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pbx_control.api import health

    monkeypatch.setattr(health, "PROBE_TIMEOUT_S", 0.05)

    async def broken() -> dict:
        raise RuntimeError("boom")

    async def slow() -> dict:
        await asyncio.sleep(5)
        return {}

    for probe in (broken, slow):
        async with api_client(db_pool, health_probe=probe) as client:
            resp = await client.get(f"{PREFIX}/health")
            assert resp.status == 503
            assert (await resp.json())["ami"]["ok"] is False
