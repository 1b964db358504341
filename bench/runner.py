"""Runs the whole bench: stack up, seed, every measurement in turn, table, latest.json, stack down.

    python -m bench            # full (make bench), about 10 minutes
    python -m bench --smoke    # a few seconds per measurement, no goals checked (make test)

Ports: PBX_BENCH_PORT_BASE (default 38000 full, 46000 smoke); the full stack uses base .. base+7999
(RTP at base+4000..), the smoke stack base .. base+2199.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import agi, api, conference, cps, fanout, memory, process_agi, profile, report
from bench.env import ROOT, TRUNK_HOST, BenchEnv, ControlProcess, make_stack, start_asterisk
from bench.params import FULL, SMOKE, Params
from bench.results import Result
from bench.seed import Seeded, seed

RESULTS = ROOT / "bench" / "results"
NAMES = (
    "agi_latency",
    "agi_burst",
    "process_agi_ratio",
    "api_latency",
    "event_fanout",
    "cps_ratio",
    "conference_mix",
    "memory",
)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds each, no goals checked")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(NAMES)}")
    parser.add_argument("--port-base", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default bench/results/...)")
    parser.add_argument("--profile", default="", help="py-spy the service during these measurements")
    return parser.parse_args(argv)


def _timed(name: str, goal: str, fn: Callable[[], Result]) -> Result:
    started = time.monotonic()
    try:
        result = fn()
    except Exception as exc:
        traceback.print_exc()
        result = Result(name, goal, status="failed", notes=[f"{type(exc).__name__}: {exc}"])
    result.seconds = round(time.monotonic() - started, 1)
    print(f"bench: {name}: {result.status} in {result.seconds}s", flush=True)
    return result


def _measure(env: BenchEnv, p: Params, seeded: Seeded, only: set[str]) -> list[Result]:
    sampler = memory.RssSampler(env.control.pid).start()
    results: list[Result] = []
    state: dict[str, Any] = {}

    def step(name: str, goal: str, fn: Callable[[], Result]) -> None:
        if name in only:
            sampler.enter(name)
            env.profiles.clear()
            whole = name if name != "api_latency" else "-"  # api_latency profiles each of its parts
            with env.profiling(whole):
                result = _timed(name, goal, fn)
            result.notes += [f"profile: {path.relative_to(ROOT)}" for path in env.profiles]
            results.append(result)
            state[name] = result
            sampler.enter("idle")

    try:
        step("agi_latency", agi.LATENCY_GOAL, lambda: agi.agi_latency(env, p, seeded))
        step("agi_burst", agi.BURST_GOAL, lambda: agi.agi_burst(env, p, seeded))
        at_rate = state["agi_latency"].figures.get("at_rate", {}) if "agi_latency" in state else {}
        rss_now = memory.rss_mib(env.control.pid)
        step("process_agi_ratio", process_agi.GOAL, lambda: process_agi.run(env, p, seeded, at_rate, rss_now))
        step("api_latency", api.GOAL, lambda: api.run(env, p, seeded))
        step("event_fanout", fanout.GOAL, lambda: fanout.run(env, p, seeded))
        step("cps_ratio", cps.GOAL, lambda: cps.run(env, p))
        step("conference_mix", conference.GOAL, lambda: conference.run(env, p))
    finally:
        sampler.stop()
    if "memory" in only:
        loads = ("agi_latency", "agi_burst", "api_latency", "event_fanout", "cps_ratio")
        results.append(memory.result(sampler, p.smoke, loads))
    return results


def run(p: Params, only: set[str], port_base: int, out: Path, profiled: set[str]) -> int:
    name = "bench-smoke" if p.smoke else "bench"
    workdir = RESULTS / f"work-{name}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started = time.monotonic()
    machine = report.machine()  # with the load average before the bench adds its own
    # the Asterisk root is shared by every checkout on the machine: a stack name per port base
    stack = make_stack(f"{name}{port_base}", port_base, p.rtp_ports)
    control: ControlProcess | None = None
    results: list[Result] = []
    seeded: Seeded | None = None
    try:
        print(f"bench: starting the stack on ports {port_base}..{stack.ports.rtp_end}", flush=True)
        database_url = stack.start_database()
        seeded = asyncio.run(seed(database_url, p, TRUNK_HOST, port_base + 90))
        print(f"bench: seeded {seeded.counts} in {seeded.seconds}s", flush=True)
        start_asterisk(stack, bare_target=cps.callee_endpoint())
        control = ControlProcess(stack.service_env(), workdir / "service.log")
        control.start(timeout_s=60)
        control.wait_log("ami.ready")  # dialplan, queue members and live calls re-derived
        settled = profile.wait_idle(control.pid)
        print(f"bench: the service settled (start-up work done) in {settled}s", flush=True)
        env = BenchEnv(stack, control, workdir, port_base, frozenset(profiled))
        results = _measure(env, p, seeded, only)
    finally:
        if control is not None:
            control.stop()
        stack.stop()
    seconds = round(time.monotonic() - started, 1)
    print()
    print(report.table(results))
    run_info = {
        "mode": "smoke" if p.smoke else "full",
        "seconds": seconds,
        "machine": machine,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "seed": seeded.counts if seeded else None,
        "seed_seconds": seeded.seconds if seeded else None,
    }
    report.write(out, results, run_info)
    print(f"\nbench: {len(results)} measurements in {seconds}s; results in {out}")
    return 1 if any(r.status == "failed" for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    p = SMOKE if args.smoke else FULL
    only = {n.strip() for n in args.only.split(",") if n.strip()} or set(NAMES)
    unknown = only - set(NAMES)
    if unknown:
        raise SystemExit(f"unknown measurements: {', '.join(sorted(unknown))}")
    base = args.port_base or int(os.environ.get("PBX_BENCH_PORT_BASE", "46000" if p.smoke else "38000"))
    out = args.out or RESULTS / ("smoke.json" if p.smoke else "latest.json")
    profiled = {n.strip() for n in args.profile.split(",") if n.strip()}
    return run(p, only, base, out, profiled)
