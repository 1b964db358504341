"""Many WebSocket clients of GET /api/v1/events in one process (event_fanout runs a few of these).

    python -m bench.ws_clients URL TOKENS_FILE FIRST COUNT

Connects COUNT clients (tokens FIRST.. of the JSON list in TOKENS_FILE; a 503 is retried, as a
browser would, and counted), prints ``ready <n>`` once every hello arrived, then receives until a
line arrives on stdin, and prints one JSON line: for every client, the delay from each channel's
birth (its ``created_at``, Asterisk's event timestamp) to the arrival of its first event, in
milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from datetime import datetime
from typing import Any

import aiohttp

from pbx_control.kernel.loop import run_main

_UNIQUEID = re.compile(r'"uniqueid":"([^"]+)"')


CONNECT_TRIES = 6


async def _connect(
    http: aiohttp.ClientSession, url: str, token: str, out: dict[str, Any]
) -> aiohttp.ClientWebSocketResponse:
    """Connect as a browser would: a 503 (the service busy, say its database pool during the
    connection storm) is retried after a growing pause; the retries are counted."""
    for attempt in range(CONNECT_TRIES):
        try:
            return await http.ws_connect(url, headers={"Authorization": f"Bearer {token}"}, heartbeat=None)
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status != 503 or attempt == CONNECT_TRIES - 1:
                raise
            out["connect_retries"] += 1
            await asyncio.sleep(0.2 * 2**attempt * (0.5 + random.random()))
    raise AssertionError("unreachable")


async def client(
    http: aiohttp.ClientSession, url: str, token: str, ready: asyncio.Queue[bool], out: dict[str, Any]
) -> None:
    seen: set[str] = set()
    announced = False
    try:
        async with await _connect(http, url, token, out) as ws:
            first = await ws.receive()
            announced = True
            await ready.put(first.type == aiohttp.WSMsgType.TEXT)
            async for msg in ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                now = time.time()
                out["messages"] += 1
                if '"channel.updated"' not in msg.data:
                    continue
                # cheaper than parsing all: the client must not be what is measured
                uid = _UNIQUEID.search(msg.data)
                if uid is None or uid.group(1) in seen:
                    continue
                seen.add(uid.group(1))
                created = json.loads(msg.data)["channel"].get("created_at")
                if not created:
                    continue
                born = datetime.fromisoformat(created).timestamp()
                out["latencies_ms"].append(round((now - born) * 1000, 3))
            if ws.close_code not in (None, 1000):
                out["closed"][str(ws.close_code)] = out["closed"].get(str(ws.close_code), 0) + 1
    except (aiohttp.ClientError, OSError) as exc:
        out["errors"].append(type(exc).__name__)
        if not announced:
            await ready.put(False)


async def main(url: str, tokens: list[str]) -> None:
    out: dict[str, Any] = {
        "latencies_ms": [],
        "messages": 0,
        "closed": {},
        "errors": [],
        "connect_retries": 0,
    }
    ready: asyncio.Queue[bool] = asyncio.Queue()
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        tasks = []
        for i, token in enumerate(tokens):
            tasks.append(asyncio.create_task(client(http, url, token, ready, out)))
            if i % 50 == 49:
                await asyncio.sleep(0.05)  # do not stampede the token lookups
        ok = 0
        for _ in tokens:
            ok += await ready.get()
        print(f"ready {ok}", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    tokens_all = json.loads(open(sys.argv[2]).read())
    first, count = int(sys.argv[3]), int(sys.argv[4])
    # uvloop, as the service: a client's own per-message cost is not what is measured
    run_main(main(sys.argv[1], tokens_all[first : first + count]))
