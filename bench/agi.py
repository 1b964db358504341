"""agi_latency and agi_burst: FastAGI route decisions against the running service, seeded data.

Calls are drawn from the seed: a random user of a random organization calls a colleague (85%) or
an outside number (15%). Server-side times come from AgiServer.on_session_end (bench.service),
client-side times from connect to the server's close.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from bench import seed as names
from bench.agi_client import Call, Outcome, session
from bench.env import BenchEnv
from bench.params import Params
from bench.results import Result, summary_ms
from bench.seed import Seeded
from pbx_control.kernel.loop import run_main

LATENCY_GOAL = "p99 <= 2 ms (server and client side, at the offered rate)"
BURST_GOAL = "0 refused / reset / timed out / unrouted"
FAILURES = ("refused", "reset", "timeout", "error", "no-route")


def call_maker(seeded: Seeded, seed: int) -> Callable[[], Call]:
    rng = random.Random(seed)
    counter = iter(range(10**9))

    def make() -> Call:
        org, ext = seeded.random_user(rng)
        dialled = (
            f"070{rng.randrange(10**7):07d}"
            if rng.random() < 0.15
            else str(names.FIRST_EXTENSION + rng.randrange(seeded.sizes[org]))
        )
        return Call(
            names.slug(org), names.device(org, ext), str(ext), dialled, f"{time.time():.0f}.{next(counter)}"
        )

    return make


async def open_loop(
    port: int, rate: int, seconds: float, make: Callable[[], Call]
) -> tuple[list[Outcome], float]:
    """Start `rate` sessions per second for `seconds`, whatever the answers; (outcomes, achieved rate)."""
    loop = asyncio.get_running_loop()
    total = max(1, int(rate * seconds))
    tasks: list[asyncio.Task[Outcome]] = []
    start = loop.time()
    for i in range(total):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(session(port, make())))
    launched_in = max(loop.time() - start, 1e-9)
    outcomes = list(await asyncio.gather(*tasks))
    return outcomes, total / launched_in if total > 1 else float(rate)


async def closed_loop(
    port: int, workers: int, seconds: float, make: Callable[[], Call]
) -> tuple[list[Outcome], float]:
    """`workers` sessions at once, each starting the next as soon as one ends; (outcomes, elapsed)."""
    outcomes: list[Outcome] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while time.perf_counter() < deadline:
            outcomes.append(await session(port, make()))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return outcomes, time.perf_counter() - started


def client_figures(outcomes: list[Outcome]) -> dict[str, Any]:
    kinds = Counter(o.kind for o in outcomes)
    routed = [o.seconds for o in outcomes if o.kind == "routed"]
    return {"client": summary_ms(routed), "outcomes": dict(kinds)}


def server_figures(stats: dict[str, Any]) -> dict[str, Any]:
    return {"server": summary_ms(stats.get("ok", [])), "server_other_outcomes": stats.get("other", {})}


def agi_latency(env: BenchEnv, p: Params, seeded: Seeded) -> Result:
    result = Result("agi_latency", LATENCY_GOAL)
    make = call_maker(seeded, 1)
    run_main(open_loop(env.agi_port, p.agi_open_rate, min(1.0, p.agi_duration_s), make))  # warm up
    env.control.agi_sessions()
    outcomes, achieved = run_main(open_loop(env.agi_port, p.agi_open_rate, p.agi_duration_s, make))
    at_rate: dict[str, Any] = {"offered_per_s": p.agi_open_rate, "achieved_per_s": round(achieved, 1)}
    at_rate |= client_figures(outcomes) | server_figures(env.control.agi_sessions())
    outcomes, elapsed = run_main(closed_loop(env.agi_port, p.agi_concurrency, p.agi_duration_s, make))
    concurrent: dict[str, Any] = {
        "sessions_at_once": p.agi_concurrency,
        "sessions_per_s": round(len(outcomes) / elapsed, 1),
    }
    concurrent |= client_figures(outcomes) | server_figures(env.control.agi_sessions())
    result.figures = {
        "p99_ms_server": at_rate["server"].get("p99_ms"),
        "p99_ms_client": at_rate["client"].get("p99_ms"),
        "at_rate": at_rate,
        "concurrent": concurrent,
    }
    result.notes.append(
        f"goal judged at {p.agi_open_rate} sessions/s (open loop); with {p.agi_concurrency} sessions "
        "at once the time is mostly queueing: sessions at once / sessions per second"
    )
    failed = sum(at_rate["outcomes"].get(k, 0) for k in FAILURES)
    p99s = [at_rate["server"].get("p99_ms"), at_rate["client"].get("p99_ms")]
    met = failed == 0 and all(v is not None and v <= 2.0 for v in p99s)
    return result.judge(None if p.smoke else met)


def agi_burst(env: BenchEnv, p: Params, seeded: Seeded) -> Result:
    result = Result("agi_burst", BURST_GOAL)
    make = call_maker(seeded, 2)
    env.control.agi_sessions()
    outcomes, achieved = run_main(open_loop(env.agi_port, p.burst_rate, p.burst_duration_s, make))
    figures = client_figures(outcomes) | server_figures(env.control.agi_sessions())
    failed = {k: figures["outcomes"].get(k, 0) for k in FAILURES}
    result.figures = {
        "failed": sum(failed.values()),
        "connections": len(outcomes),
        "offered_per_s": p.burst_rate,
        "achieved_per_s": round(achieved, 1),
        "failures": failed,
        **figures,
    }
    return result.judge(None if p.smoke else sum(failed.values()) == 0)
