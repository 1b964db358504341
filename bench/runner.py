"""Runs the whole bench: for each size of the seed (`--sizes`, users), a stack of its own (up,
seed, every measurement `repeats` times in rounds, stack down); then the table with every goal's
verdict, the results file (bench/results/latest.json) and the chart of each figure against size.

    python -m bench            # full (make bench): 1,000, 10,000 and 100,000 users, 3 rounds each
    python -m bench --smoke    # one tiny size, a few seconds per measurement, no goals checked

Ports: PBX_BENCH_PORT_BASE or --port-base (default 38000 full, 46000 smoke); the full stack uses
base .. base+7999 (RTP at base+4000..), the smoke stack base .. base+2199. The sizes run one after
the other on the same ports.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import agi, api, chart, conference, cps, fanout, memory, mixed, process_agi, profile, report
from bench.env import ROOT, TRUNK_HOST, BenchEnv, ControlProcess, make_stack, start_asterisk
from bench.params import FULL, SMOKE, Params
from bench.repeats import combine
from bench.results import Result, load_average
from bench.seed import Seeded, seed

RESULTS = ROOT / "bench" / "results"
NAMES = (
    "agi_latency",
    "mixed_load",
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
    parser.add_argument(
        "--sizes", default="", help="seed sizes in users, comma-separated (full: 1000,10000,100000)"
    )
    parser.add_argument("--repeats", type=int, default=0, help="rounds of every measurement per size")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default bench/results/...)")
    parser.add_argument("--profile", default="", help="py-spy the service during these measurements")
    return parser.parse_args(argv)


def _timed(name: str, goal: str, fn: Callable[[], Result]) -> Result:
    started = time.monotonic()
    before = load_average()
    try:
        result = fn()
    except Exception as exc:
        traceback.print_exc()
        result = Result(name, goal, status="failed", notes=[f"{type(exc).__name__}: {exc}"])
    result.seconds = round(time.monotonic() - started, 1)
    result.load_before, result.load_after = before, load_average()
    print(
        f"bench: {name}: {result.status} in {result.seconds}s (load {before[0]} -> {result.load_after[0]})",
        flush=True,
    )
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
        step("mixed_load", mixed.GOAL, lambda: mixed.run(env, p, seeded))
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
        loads = ("agi_latency", "mixed_load", "agi_burst", "api_latency", "event_fanout", "cps_ratio")
        before = load_average()
        results.append(memory.result(sampler, p.smoke, loads))
        results[-1].load_before, results[-1].load_after = before, load_average()
    return results


def _rounds(env: BenchEnv, p: Params, seeded: Seeded, only: set[str]) -> list[dict[str, Any]]:
    """Every measurement `p.repeats` times (in rounds: all of them, then all again, so that a
    disturbance hits one repeat of each rather than every repeat of one), combined."""
    by_name: dict[str, list[Result]] = {}
    for k in range(p.repeats):
        names = only if k == 0 or p.repeated is None else only & set(p.repeated) | ({"memory"} & only)
        if k and not names - {"memory"}:
            break
        print(f"bench: {p.users} users, round {k + 1} of {p.repeats}", flush=True)
        for result in _measure(env, p, seeded, names):
            by_name.setdefault(result.name, []).append(result)
    return [combine(by_name[name]) for name in NAMES if name in by_name]


def _size(p: Params, only: set[str], port_base: int, workdir: Path, profiled: set[str]) -> dict[str, Any]:
    """One size of the seed: its own stack, seeded, measured, stopped."""
    name = "bench-smoke" if p.smoke else "bench"
    stack = make_stack(f"{name}{port_base}", port_base, p.rtp_ports)
    control: ControlProcess | None = None
    seeded: Seeded | None = None
    out: dict[str, Any] = {"users": p.users, "load_average_at_start": load_average()}
    try:
        print(
            f"bench: {p.users} users: starting the stack on ports {port_base}..{stack.ports.rtp_end}",
            flush=True,
        )
        database_url = stack.start_database()
        seeded = asyncio.run(seed(database_url, p, TRUNK_HOST, port_base + 90))
        print(f"bench: seeded {seeded.counts} in {seeded.seconds}s", flush=True)
        out |= {
            "seed": seeded.counts,
            "seed_seconds": seeded.seconds,
            "seed_seconds_by_table": seeded.seconds_by_table,
        }
        print(f"bench: seconds by table: {seeded.seconds_by_table}", flush=True)
        # res_pjsip sets up every realtime endpoint at start: minutes at 100,000 users
        booted = start_asterisk(stack, bare_target=cps.callee_endpoint(), timeout_s=60 + p.users / 50)
        out["asterisk_boot_seconds"] = booted
        print(f"bench: Asterisk fully booted in {booted}s", flush=True)
        control = ControlProcess(stack.service_env(), workdir / f"service-{p.users}.log")
        control.start(timeout_s=60 + p.users / 1000)
        control.wait_log("ami.ready", timeout_s=120 + p.users / 200)  # dialplan, queues, live calls
        # Asterisk too: at 100,000 users it works through the service's start-up (991 organizations'
        # contexts reloaded, 10,000 queues reconciled) for a while after the service has gone quiet.
        assert stack.asterisk is not None and stack.asterisk.pid is not None
        settled = profile.wait_idle([control.pid, stack.asterisk.pid], timeout_s=120 + p.users / 500)
        print(f"bench: the service and Asterisk settled (start-up work done) in {settled}s", flush=True)
        env = BenchEnv(stack, control, workdir, port_base, frozenset(profiled))
        out["measurements"] = _rounds(env, p, seeded, only)
    except Exception as exc:
        traceback.print_exc()
        out["error"] = f"{type(exc).__name__}: {exc}"
        out.setdefault("measurements", [])
    finally:
        if control is not None:
            control.stop()
        stack.stop()
    out["load_average_at_end"] = load_average()
    return out


def run(p: Params, only: set[str], port_base: int, out: Path, profiled: set[str]) -> int:
    name = "bench-smoke" if p.smoke else "bench"
    workdir = RESULTS / f"work-{name}"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    started = time.monotonic()
    machine = report.machine()  # with the load average before the bench adds its own
    sizes = [_size(p.at_size(users), only, port_base, workdir, profiled) for users in p.sizes]
    seconds = round(time.monotonic() - started, 1)
    run_info = {
        "mode": "smoke" if p.smoke else "full",
        "seconds": seconds,
        "machine": machine,
        "load_average_at_start": machine["load_average_at_start"],
        "load_average_at_end": load_average(),
        "sizes": list(p.sizes),
        "repeats": p.repeats,
        "repeated": list(p.repeated) if p.repeated is not None else "all",
    }
    doc = report.document(sizes, run_info)
    picture = out.with_suffix(".png")
    doc["run"]["chart"] = chart.draw(doc, picture)
    if not p.smoke and only == set(NAMES) and len(p.sizes) > 1:  # a complete full run: BENCHMARKS.md shows it
        chart.publish(picture)
    print()
    print(report.table(doc))
    report.write(out, doc)
    failed = [m["name"] for s in sizes for m in s["measurements"] if m["status"] == "failed"]
    failed += [f"size {s['users']}" for s in sizes if "error" in s]
    print(f"\nbench: {len(p.sizes)} sizes in {seconds}s; results in {out}, chart {doc['run']['chart']}")
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    p = SMOKE if args.smoke else FULL
    if args.sizes:
        p = dataclasses.replace(p, sizes=tuple(int(n) for n in args.sizes.split(",") if n.strip()))
    if args.repeats:
        p = dataclasses.replace(p, repeats=args.repeats)
    only = {n.strip() for n in args.only.split(",") if n.strip()} or set(NAMES)
    unknown = only - set(NAMES)
    if unknown:
        raise SystemExit(f"unknown measurements: {', '.join(sorted(unknown))}")
    base = args.port_base or int(os.environ.get("PBX_BENCH_PORT_BASE", "46000" if p.smoke else "38000"))
    out = args.out or RESULTS / ("smoke.json" if p.smoke else "latest.json")
    profiled = {n.strip() for n in args.profile.split(",") if n.strip()}
    return run(p, only, base, out, profiled)
