"""Open-loop API load of mixed_load, in a process of its own (the AGI client's loop stays alone).

    python -m bench.api_load CONFIG_JSON

CONFIG_JSON: {"base": "http://127.0.0.1:port", "seconds": S, "streams": [{"name": ..., "rate": R,
"requests": [[METHOD, PATH, BODY or null, TOKEN], ...]}]}. Every stream starts R requests per second
for S seconds, going round its requests in turn, whatever the answers (open loop: a slow answer
does not slow the offered load). Prints ``started`` at once, then one JSON line: every stream's
figures (bench.timing.OpTimes: total, statuses, Server-Timing app / ami) and the rate achieved.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import aiohttp

from bench.timing import OpTimes
from pbx_control.kernel.loop import run_main


async def _one(http: aiohttp.ClientSession, base: str, req: list[Any], times: OpTimes) -> None:
    method, path, body, token = req
    started = time.perf_counter()
    try:
        async with http.request(
            method, base + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            await resp.read()
            timing = resp.headers.getall("Server-Timing", None)
        times.add(time.perf_counter() - started, resp.status, timing)
    except (aiohttp.ClientError, OSError, TimeoutError):
        times.add(time.perf_counter() - started, 599)  # no answer: counted as an error


async def _stream(
    http: aiohttp.ClientSession, base: str, stream: dict[str, Any], seconds: float
) -> dict[str, Any]:
    times = OpTimes()
    rate, requests = stream["rate"], stream["requests"]
    total = max(1, int(rate * seconds)) if requests and rate > 0 else 0
    loop = asyncio.get_running_loop()
    tasks = []
    start = loop.time()
    for i in range(total):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(_one(http, base, requests[i % len(requests)], times)))
    launched_in = max(loop.time() - start, 1e-9)
    await asyncio.gather(*tasks)
    achieved = round(total / launched_in, 1) if total > 1 else float(rate)
    return times.figures() | {"offered_per_s": rate, "achieved_per_s": achieved}


async def main(config: dict[str, Any]) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as http:
        print("started", flush=True)
        streams = config["streams"]
        results = await asyncio.gather(
            *(_stream(http, config["base"], s, config["seconds"]) for s in streams)
        )
    return {s["name"]: r for s, r in zip(streams, results, strict=True)}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        cfg = json.load(f)
    print(json.dumps(run_main(main(cfg))), flush=True)
