"""History query of api_latency: GET /users/me/history for a user with `history_rows` rows (100,000
in the full run), from the 50 clients at their pace (bench/pace.py): the first page of all calls,
of missed calls, and a page deep in the history (by its cursor). The API's own work only (keyset
paging on the user's index, a caller-name lookup per distinct number on the page)."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg

from bench.env import BenchEnv
from bench.http_load import wrk_get
from bench.pace import Pace
from bench.params import Params
from bench.seed import FIRST_EXTENSION, Seeded
from bench.timing import OpTimes

USER = FIRST_EXTENSION + 4  # a plain user of the first organization, not used by other loads

_FILL = """
INSERT INTO call_history (organization_id, user_id, linkedid, direction, result, missed, voicemail,
                          started_at, ended_at, duration_s, peer_number, peer_name, seen)
SELECT u.organization_id, u.id, 'bench-' || g,
       CASE WHEN g % 3 = 0 THEN 'out' ELSE 'in' END,
       CASE WHEN g % 3 = 0 THEN 'answered' WHEN g % 7 = 0 THEN 'voicemail'
            WHEN g % 5 = 0 THEN 'missed' ELSE 'answered' END,
       g % 3 <> 0 AND (g % 7 = 0 OR g % 5 = 0), g % 3 <> 0 AND g % 7 = 0,
       now() - make_interval(secs => g * 37), now() - make_interval(secs => g * 37 - 30), 30,
       '+4670' || lpad((g % 5000)::text, 7, '0'), '', NOT (g % 3 <> 0 AND (g % 7 = 0 OR g % 5 = 0))
  FROM users u, generate_series(1, $2) g
 WHERE u.id = $1
"""


async def _seed(database_url: str, user_id: int, rows: int) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        if await conn.fetchval("SELECT count(*) FROM call_history WHERE user_id = $1", user_id) >= rows:
            return  # a repeat: the rows are there
        await conn.execute(_FILL, user_id, rows)
        await conn.execute("ANALYZE call_history")
    finally:
        await conn.close()


def _cursor_deep(url: str, token: str, pages: int) -> str | None:
    cursor = None
    for _ in range(pages):
        page = url + (f"&cursor={quote(cursor)}" if cursor else "")
        request = urllib.request.Request(page, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            cursor = json.loads(r.read()).get("next_cursor")
        if cursor is None:
            break
    return cursor


async def _paced_get(url: str, token: str, p: Params) -> dict[str, Any]:
    """GET `url` from p.api_clients clients, one request per turn, for p.api_duration_s."""
    times = OpTimes()
    pace = Pace(p.api_clients, p.api_pace_s)
    deadline = pace.started + p.api_duration_s
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: aiohttp.ClientSession, n: int) -> None:
        turns = pace.turns(n)
        while True:
            await turns.next()
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            async with http.get(url, headers=headers) as resp:
                await resp.read()
                timing = resp.headers.getall("Server-Timing", None)
            times.add(time.perf_counter() - started, resp.status, timing)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(*(client(http, n) for n in range(pace.clients)))
    return times.figures() | pace.describe()


def run(env: BenchEnv, p: Params, seeded: Seeded) -> dict[str, Any]:
    user_id = seeded.user_ids[(0, USER)]
    asyncio.run(_seed(env.stack.database_url, user_id, p.history_rows))
    token = seeded.tokens[USER]
    base = f"{env.control.api}/users/me/history?limit=50"
    figures: dict[str, Any] = {"rows": p.history_rows}
    wrk_get(base, token, p.api_clients, 1)  # warm up
    for name, url in (("all", base), ("missed", base + "&filter=missed")):
        figures[name] = asyncio.run(_paced_get(url, token, p))
    deep = _cursor_deep(base, token, 10)
    if deep is not None:
        figures["page_11"] = asyncio.run(_paced_get(f"{base}&cursor={quote(deep)}", token, p))
    return figures
