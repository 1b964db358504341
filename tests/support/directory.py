"""Helpers of the directory tests: API calls in one line, and a snapshot of the directory tables."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX

DIRECTORY_TABLES = (
    "contacts",
    "contact_numbers",
    "contact_marks",
    "favorite_colleagues",
    "favorite_groups",
    "caller_lists",
)


async def call(
    client: TestClient, method: str, path: str, headers: dict[str, str], body: Any = None, **kw: Any
) -> tuple[int, Any]:
    """(status, JSON body or None) of one API request; bytes bodies are sent raw."""
    if isinstance(body, bytes):
        kw["data"] = body
    elif body is not None:
        kw["json"] = body
    resp = await client.request(method, PREFIX + path, headers=headers, **kw)
    raw = await resp.read()
    return resp.status, (await resp.json() if raw else None)


async def directory_snapshot(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    """Every row of the directory tables, to assert that a refused request changed nothing."""
    async with pool.acquire() as conn:
        return {
            t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")]  # noqa: S608
            for t in DIRECTORY_TABLES
        }


async def caller_list(pool: asyncpg.Pool, user_id: int) -> set[tuple[str, str, int | None]]:
    """(number, kind, contact_id) of every caller_lists row of a user."""
    rows = await pool.fetch("SELECT number, kind, contact_id FROM caller_lists WHERE user_id = $1", user_id)
    return {(r["number"], r["kind"], r["contact_id"]) for r in rows}
