"""process_agi_ratio: the route decision as a process AGI (pyst2, a Python process per call) vs
FastAGI. Each call starts bench/process_agi_script.py, plays Asterisk on its stdin/stdout and waits
for it to exit: time from start to exit, and the process's peak resident memory (VmHWM, read while
it waits for the answer to its last command; wait4's ru_maxrss would count this bench's own memory
from before the exec)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.agi import call_maker
from bench.agi_client import Call, header, reply, route_of
from bench.env import ROOT, BenchEnv
from bench.params import Params
from bench.results import Result, percentile, summary_ms
from bench.seed import Seeded

GOAL = "report the ratio (no goal)"
SCRIPT = ROOT / "bench" / "process_agi_script.py"


def one_call(call: Call, database_url: str, stderr: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, PBX_ROUTE) of one process AGI call."""
    env = {**os.environ, "PBX_DATABASE_URL": database_url}
    started = time.perf_counter()
    with stderr.open("wb") as err:  # pyst2 always writes debug lines there
        proc = subprocess.Popen(
            [sys.executable, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=ROOT,
            env=env,
        )
    assert proc.stdin is not None and proc.stdout is not None
    route = ""
    peak = 0.0
    try:
        proc.stdin.write(header(call, 0).replace(b"agi_network: yes\n", b""))
        proc.stdin.flush()
        for line in proc.stdout:
            route = route_of(line) or route
            peak = max(peak, _hwm_mib(proc.pid))
            proc.stdin.write(reply(line))
            proc.stdin.flush()
    except BrokenPipeError:
        pass
    proc.wait()
    elapsed = time.perf_counter() - started
    for stream in (proc.stdin, proc.stdout):
        stream.close()
    return elapsed, peak, route


def _hwm_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(env: BenchEnv, p: Params, seeded: Seeded, fastagi: dict[str, Any], service_rss_mb: float) -> Result:
    result = Result("process_agi_ratio", GOAL)
    make = call_maker(seeded, 3)
    times: list[float] = []
    rss: list[float] = []
    unrouted = 0
    stderr = env.workdir / "process-agi.stderr"
    for _ in range(p.process_calls):
        seconds, mib, route = one_call(make(), env.stack.database_url, stderr)
        times.append(seconds)
        rss.append(mib)
        if not route:
            unrouted += 1
            if unrouted == 1:
                tail = stderr.read_text(errors="replace").strip().splitlines()[-3:]
                result.notes.append("first unrouted call: " + " | ".join(tail)[-400:])
    process = summary_ms(times) | {
        "peak_rss_mib_per_call": round(percentile(rss, 50), 1),
        "unrouted": unrouted,
    }
    fast_p50 = (fastagi.get("client") or {}).get("p50_ms")
    ratio = round(process["p50_ms"] / fast_p50, 1) if fast_p50 else None
    concurrent = p.agi_concurrency
    result.figures = {
        "time_ratio_p50": ratio,
        "process": process,
        "fastagi": {"client_p50_ms": fast_p50, "service_rss_mib": round(service_rss_mb, 1)},
        f"memory_for_{concurrent}_calls_at_once_mib": {
            "process": round(percentile(rss, 50) * concurrent, 1),
            "fastagi": round(service_rss_mb, 1),
        },
    }
    result.notes.append("process AGI: one Python interpreter and one database connection per call")
    return result.judge(None)
