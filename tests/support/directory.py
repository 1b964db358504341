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


def big_vcard(cards: int) -> bytes:
    """An Outlook-like vCard export of `cards` distinct contacts, two numbers and a note each (about
    400 bytes a card: 10,000 cards, the most one file may hold, make a 4 MB file)."""
    out = []
    for i in range(cards):
        out.append(
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"FN:Kontakt {i:05d} Svensson-Lindqvist\r\nN:Svensson-Lindqvist;Kontakt {i:05d};;;\r\n"
            f"ORG:Företaget {i % 97} AB\r\nEMAIL;TYPE=INTERNET:kontakt{i}@example.se\r\n"
            f"TEL;TYPE=CELL:070-{i // 100:03d} {i % 100:02d} 00\r\n"
            f"TEL;TYPE=WORK:08-{i // 100:03d} {i % 100:02d} 11\r\n"
            f"NOTE:En anteckning om kontakt {i}\\, som en riktig export har: ring helst före lunch\\,"
            " fråga efter inköp\\, faktura till huvudkontoret\\, leverans via godsmottagningen.\r\n"
            "END:VCARD\r\n"
        )
    return "".join(out).encode()
