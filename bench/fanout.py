"""event_fanout: from an AMI event to N connected WebSocket clients receiving it.

N clients of the first organization (in a few bench.ws_clients processes) listen on
GET /api/v1/events while SIPp places calls inside that organization. Asterisk stamps every AMI event
(timestampevents, bench instance only) and the call model copies a new channel's stamp into
``created_at``; each client takes the delay from that stamp to the arrival of the channel's first
event. So the figure covers Asterisk's AMI write, our AMI reader, the call model, the hub and the
WebSocket send, for every client.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from bench import seed as names
from bench.cps import CALLEE, CALLER, callee_endpoint
from bench.env import ROOT, BenchEnv
from bench.params import Params
from bench.results import Result, summary_ms
from bench.seed import Seeded
from bench.sipp_load import Uas, offer

GOAL = "p99 <= 50 ms to every client"


def start_clients(env: BenchEnv, p: Params, seeded: Seeded) -> list[subprocess.Popen[str]]:
    tokens = [seeded.tokens[ext] for ext in sorted(seeded.tokens)][: p.fanout_clients]
    path = env.workdir / "ws-tokens.json"
    path.write_text(json.dumps(tokens))
    url = env.control.api.replace("http://", "ws://") + "/events"
    per = -(-len(tokens) // p.fanout_processes)
    procs = []
    for k in range(p.fanout_processes):
        first = k * per
        if first >= len(tokens):
            break
        cmd = [sys.executable, "-m", "bench.ws_clients", url, str(path), str(first), str(per)]
        procs.append(
            subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        )
    return procs


def wait_ready(procs: list[subprocess.Popen[str]]) -> int:
    """The clients connected (each process says ``ready <n>`` once its hellos arrived)."""
    connected = 0
    for proc in procs:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        connected += int(line[1]) if len(line) == 2 and line[0] == "ready" else 0
    return connected


def collect(procs: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Stop the client processes; what each received."""
    collected: list[dict[str, Any]] = []
    for proc in procs:
        try:
            out, _ = proc.communicate("stop\n", timeout=60)
            collected.append(json.loads(out.strip().splitlines()[-1]))
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            proc.kill()
            proc.wait()
    return collected


def deliveries(collected: list[dict[str, Any]], connected: int) -> dict[str, Any]:
    latencies = [ms / 1000 for c in collected for ms in c["latencies_ms"]]
    closed: dict[str, int] = {}
    for c in collected:
        for code, n in c["closed"].items():
            closed[code] = closed.get(code, 0) + n
    summary = summary_ms(latencies)
    return {
        "p99_ms": summary.get("p99_ms"),
        "clients": connected,
        "deliveries": summary,
        "messages_received": sum(c["messages"] for c in collected),
        "clients_dropped": closed,
        "client_errors": sum(len(c["errors"]) for c in collected),
        "client_error_kinds": sorted({e for c in collected for e in c["errors"]}),
        "connect_retries": sum(c.get("connect_retries", 0) for c in collected),
    }


def run(env: BenchEnv, p: Params, seeded: Seeded) -> Result:
    result = Result("event_fanout", GOAL)
    procs = start_clients(env, p, seeded)
    connected = 0
    collected: list[dict[str, Any]] = []
    uas = Uas(env.workdir, env.sip, env.sipp_port(0), callee_endpoint(), names.SIP_PASSWORD)
    try:
        connected = wait_ready(procs)
        uas.register()
        uas.start()
        time.sleep(0.5)
        calls = offer(
            env.workdir,
            env.sip,
            env.sipp_port(1),
            names.device(*CALLER),
            names.SIP_PASSWORD,
            str(CALLEE[1]),
            p.fanout_call_rate,
            p.fanout_calls / p.fanout_call_rate,
            p.call_hold_ms,
        )
        time.sleep(1.0)
    finally:
        uas.stop()
        collected = collect(procs)
    figures = deliveries(collected, connected)
    result.figures = {
        "p99_ms": figures.pop("p99_ms"),
        "clients": figures.pop("clients"),
        "calls": {"offered": calls.offered, "successful": calls.successful, "failed": calls.failed},
        **figures,
    }
    closed = result.figures["clients_dropped"]
    result.notes.append(
        f"{connected} clients in {len(procs)} processes; every client counts every new channel"
    )
    p99 = result.figures["p99_ms"]
    met = p99 is not None and p99 <= 50 and not closed and connected == p.fanout_clients
    return result.judge(None if p.smoke else met)
