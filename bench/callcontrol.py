"""Park and blind transfer requests of api_latency, each with its AMI round trip, on live calls.

SIPp places long calls inside the first organization (a device calls a colleague whose phone, a
SIPp UAS, answers at once). Then the clients, as the organization's admin, park the other party of
a call (POST /calls/park, rounds of one call per client: the lot has 50 places and a parked call
stays at least 5 s) or transfer it to a colleague (POST /calls/transfer). Every request takes its
own call. Under the same load: hold/resume, announced transfer (to the callee's extension: the UAS
answers) and click-to-call (the callee rings and dials the colleague), bench/live_calls.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import live_calls
from bench import seed as names
from bench.cps import CALLEE, CALLER, callee_endpoint
from bench.env import BenchEnv
from bench.pace import Pace
from bench.params import Params
from bench.seed import FIRST_EXTENSION, Seeded
from bench.sipp_load import Uas, start_calls
from bench.timing import OpTimes

PARK_TIMEOUT_S = 5
TRANSFER_TO = str(FIRST_EXTENSION + 3)
HOLD_MS = 90_000


async def _live_calls(
    http: aiohttp.ClientSession, api: str, headers: dict[str, str], want: int, seen: Path
) -> list[str]:
    """Ids of the caller's answered calls, once `want` of them are up (or after 60 s)."""
    deadline = time.monotonic() + 60
    ids: list[str] = []
    while time.monotonic() < deadline:
        async with http.get(f"{api}/calls", headers=headers) as resp:
            calls = await resp.json() if resp.status == 200 else []
        seen.write_text(json.dumps(calls, indent=1))  # noqa: ASYNC240 (small, for debugging)
        ids = [c["id"] for c in calls if c.get("endpoint") == names.device(*CALLER) and c.get("bridged")]
        if len(ids) >= want:
            break
        await asyncio.sleep(1.0)
    return ids


class Requests(OpTimes):
    """Latencies, statuses and Server-Timing of one kind of request, over any number of rounds."""

    async def post(
        self, http: aiohttp.ClientSession, url: str, headers: dict[str, str], bodies: list[Any], pace: Pace
    ) -> None:
        todo = list(bodies)

        async def client(n: int) -> None:
            turns = pace.turns(n)
            while todo:
                await turns.next()
                if not todo:
                    break
                body = todo.pop()
                started = time.perf_counter()
                async with http.post(url, json=body, headers=headers) as resp:
                    await resp.read()
                    timing = resp.headers.getall("Server-Timing", None)
                self.add(time.perf_counter() - started, resp.status, timing)

        await asyncio.gather(*(client(n) for n in range(pace.clients)))


async def _load(env: BenchEnv, p: Params, seeded: Seeded) -> dict[str, Any]:
    api = env.control.api
    headers = {"Authorization": f"Bearer {seeded.tokens[FIRST_EXTENSION]}"}  # the organization's admin
    rounds, clients = p.park_rounds, p.api_clients
    wanted = _wanted(p)
    park, transfer = Requests(), Requests()
    live: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        events = live_calls.Events()
        await events.start(http, api, headers)
        ids = await _live_calls(http, api, headers, wanted, env.workdir / "calls.json")
        found = len(ids)
        for r in range(rounds):
            batch = [{"call": i, "timeout_s": PARK_TIMEOUT_S} for i in ids[r * clients : (r + 1) * clients]]
            await park.post(http, f"{api}/calls/park", headers, batch, Pace(clients, p.api_pace_s))
            if r + 1 < rounds:
                await asyncio.sleep(PARK_TIMEOUT_S + 2)  # the lot empties
        ids = ids[rounds * clients :]
        rest, ids = ids[: p.transfers], ids[p.transfers :]
        bodies = [{"call": i, "to": TRANSFER_TO} for i in rest]
        await transfer.post(http, f"{api}/calls/transfer", headers, bodies, Pace(clients, p.api_pace_s))
        held, ids = ids[: p.hold_calls], ids[p.hold_calls :]
        live |= await live_calls.hold_resume(http, api, headers, held, Pace(clients, p.api_pace_s))
        to = str(CALLEE[1])
        xfers = ids[: p.announced_transfers]
        pace = Pace(clients, p.api_pace_s)
        live["announced"] = await live_calls.announced(http, api, headers, events, xfers, pace, to)
        callee = {"Authorization": f"Bearer {seeded.tokens[CALLEE[1]]}"}
        pace = Pace(clients, p.api_pace_s)
        live |= await live_calls.click_to_call(http, api, callee, p.clicks, pace, TRANSFER_TO)
        await events.stop()
        left = await _hang_up_all(http, api, headers)
    figures = {"live_calls": found, "park": park.figures(), "transfer": transfer.figures(), "left_up": left}
    return figures | live


def _wanted(p: Params) -> int:
    return p.park_rounds * p.api_clients + p.transfers + p.hold_calls + p.announced_transfers


async def _hang_up_all(http: aiohttp.ClientSession, api: str, headers: dict[str, str]) -> int:
    """Hang up what is still up (so that later measurements start clean); how many were."""
    left = 0
    for _ in range(10):
        async with http.get(f"{api}/calls", headers=headers) as resp:
            calls = await resp.json() if resp.status == 200 else []
        if not calls:
            break
        left = max(left, len(calls))
        for call in calls:
            async with http.post(f"{api}/calls/hangup", json={"call": call["id"]}, headers=headers) as resp:
                await resp.read()
        await asyncio.sleep(1.0)
    return left


def run(env: BenchEnv, p: Params, seeded: Seeded) -> dict[str, Any]:
    uas = Uas(env.workdir, env.sip, env.sipp_port(0), callee_endpoint(), names.SIP_PASSWORD)
    uas.register()
    uas.start()
    wanted = _wanted(p)
    rate = max(5, min(40, wanted // 5))
    calls = start_calls(
        env.workdir,
        env.sip,
        env.sipp_port(1),
        names.device(*CALLER),
        names.SIP_PASSWORD,
        str(CALLEE[1]),
        rate,
        wanted,
        HOLD_MS,
    )
    try:
        return asyncio.run(_load(env, p, seeded))
    finally:
        calls.kill()
        calls.wait()
        uas.stop()
