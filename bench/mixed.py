"""mixed_load: the FastAGI route decision while everything else is loaded at once.

For `mixed_duration_s` the bench offers AGI sessions at `agi_open_rate` (as agi_latency: calls drawn
from the seed, open loop, server- and client-side times) while, at the same time:
- a process of its own (bench.api_load) sends `GET /presence` of the 1,000-user organization at
  `mixed_presence_rate` and answer-group logins/logouts (each an AMI action) at `mixed_login_rate`
  per second, open loop;
- the event_fanout clients (1,000 WebSocket clients of the first organization, their own
  processes) receive every call event;
- SIPp places calls inside that organization at `mixed_call_rate` per second, each up for
  `mixed_call_hold_ms`, so Asterisk sends a steady stream of AMI events the service handles.
These loads start `LEAD_S` before the AGI window and end after it. The API's figures (with
Server-Timing `app` / `ami`) and the events' delivery delays under the same load are reported too
(information); the goal is the AGI decision's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any

from bench import agi, api, fanout
from bench import seed as names
from bench.cps import CALLEE, CALLER, callee_endpoint
from bench.env import ROOT, BenchEnv
from bench.params import Params
from bench.results import Result
from bench.seed import FIRST_EXTENSION, Seeded
from bench.sipp_load import Uas, call_counts, start_calls
from pbx_control.kernel.loop import run_main

GOAL = "AGI p99 <= 2 ms and max <= 10 ms (server and client side) at 200/s with API, events and calls"
LEAD_S = 2.0
P99_MS, MAX_MS = 2.0, 10.0


def _streams(env: BenchEnv, p: Params, seeded: Seeded) -> list[dict[str, Any]]:
    doc = api.openapi(env)
    token = seeded.tokens[FIRST_EXTENSION + 1]
    streams: list[dict[str, Any]] = []
    if api.find(doc, re.compile(r"^/api/v1/presence$"), ("get",)):
        streams.append(
            {
                "name": "presence",
                "rate": p.mixed_presence_rate,
                "requests": [["GET", "/presence", None, token]],
            }
        )
    login = api.find(doc, api.LOGIN_PATH, ("post", "put", "patch"))
    if login is not None and seeded.group_members:
        requests = api.login_requests(doc, login, seeded, p.api_clients)
        for req in requests:
            req[1] = req[1].removeprefix("/api/v1")
        streams.append({"name": "group_login_logout", "rate": p.mixed_login_rate, "requests": requests})
    return streams


def _start_api_load(env: BenchEnv, streams: list[dict[str, Any]], seconds: float) -> subprocess.Popen[str]:
    path = env.workdir / "mixed-api.json"
    path.write_text(json.dumps({"base": env.control.api, "seconds": seconds, "streams": streams}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.api_load", str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # "started"
    return proc


def _api_figures(proc: subprocess.Popen[str] | None, timeout_s: float) -> dict[str, Any]:
    if proc is None:
        return {}
    try:
        out, _ = proc.communicate(timeout=timeout_s)
        return dict(json.loads(out.strip().splitlines()[-1]))
    except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        proc.kill()
        proc.wait()
        return {"error": f"the API load gave no figures: {type(exc).__name__}"}


def _calls_gone(env: BenchEnv, seeded: Seeded, timeout_s: float = 15) -> int:
    """Wait until the service lists no live call of the first organization (the next measurement
    picks its calls from that list); how many were still listed at the end."""
    request = urllib.request.Request(  # noqa: S310
        f"{env.control.api}/calls", headers={"Authorization": f"Bearer {seeded.tokens[FIRST_EXTENSION]}"}
    )
    deadline = time.monotonic() + timeout_s
    left = 0
    while time.monotonic() < deadline:
        with urllib.request.urlopen(request, timeout=5) as r:  # noqa: S310
            left = len(json.loads(r.read()))
        if not left:
            break
        time.sleep(0.5)
    return left


def run(env: BenchEnv, p: Params, seeded: Seeded) -> Result:
    result = Result("mixed_load", GOAL)
    streams = _streams(env, p, seeded)
    window_s = p.mixed_duration_s + 2 * LEAD_S
    stat = env.workdir / "mixed-calls.csv"
    offered = max(1, int(p.mixed_call_rate * window_s))
    uas = Uas(env.workdir, env.sip, env.sipp_port(0), callee_endpoint(), names.SIP_PASSWORD)
    ws = fanout.start_clients(env, p, seeded)
    calls: subprocess.Popen[bytes] | None = None
    load: subprocess.Popen[str] | None = None
    try:
        connected = fanout.wait_ready(ws)
        uas.register()
        uas.start()
        time.sleep(0.5)
        calls = start_calls(
            env.workdir,
            env.sip,
            env.sipp_port(1),
            names.device(*CALLER),
            names.SIP_PASSWORD,
            str(CALLEE[1]),
            p.mixed_call_rate,
            offered,
            p.mixed_call_hold_ms,
            stat,
        )
        load = _start_api_load(env, streams, window_s)
        time.sleep(LEAD_S)  # every load under way: calls up, API requests and events flowing
        env.control.agi_sessions()  # a new recording
        make = agi.call_maker(seeded, 3)
        outcomes, achieved = run_main(agi.open_loop(env.agi_port, p.agi_open_rate, p.mixed_duration_s, make))
        at_rate: dict[str, Any] = {"offered_per_s": p.agi_open_rate, "achieved_per_s": round(achieved, 1)}
        sessions = env.control.agi_sessions()
        at_rate |= agi.client_figures(outcomes) | agi.server_figures(sessions)
        at_rate["server_source"] = sessions.get("source")
        api_figures = _api_figures(load, window_s + 30)
        load = None
        try:
            calls.wait(timeout=p.mixed_call_hold_ms / 1000 + 30)  # every call ended
        except subprocess.TimeoutExpired:
            result.notes.append("SIPp's calls had not all ended 30 s after the last one")
    finally:
        if calls is not None and calls.poll() is None:
            calls.kill()
            calls.wait()
        if load is not None:
            load.kill()
            load.wait()
        uas.stop()
        collected = fanout.collect(ws)
    ok, failed = call_counts(stat)
    if left := _calls_gone(env, seeded):
        result.notes.append(f"{left} calls still listed 15 s after SIPp ended")
    server, client = at_rate["server"], at_rate["client"]
    result.figures = {
        "p99_ms_server": server.get("p99_ms"),
        "max_ms_server": server.get("max_ms"),
        "p99_ms_client": client.get("p99_ms"),
        "max_ms_client": client.get("max_ms"),
        "agi": at_rate,
        "api": api_figures,
        "events": fanout.deliveries(collected, connected),
        "calls": {"offered": offered, "successful": ok, "failed": failed},
        "load": {
            "agi_per_s": p.agi_open_rate,
            "seconds": p.mixed_duration_s,
            "presence_per_s": p.mixed_presence_rate if any(s["name"] == "presence" for s in streams) else 0,
            "group_login_logout_per_s": p.mixed_login_rate if len(streams) > 1 else 0,
            "calls_per_s": p.mixed_call_rate,
            "call_hold_ms": p.mixed_call_hold_ms,
            "websocket_clients": connected,
        },
    }
    return result.judge(None if p.smoke else _met(result, at_rate))


def _met(result: Result, at_rate: dict[str, Any]) -> bool:
    failed = sum(at_rate["outcomes"].get(k, 0) for k in agi.FAILURES)
    sides = [at_rate["client"]]
    if at_rate["server"].get("count"):
        sides.append(at_rate["server"])
    else:
        result.notes.append(
            "no server-side AGI times (neither hook nor log lines): judged on the client side"
        )
    return failed == 0 and all(
        s.get("p99_ms", 1e9) <= P99_MS and s.get("max_ms", 1e9) <= MAX_MS for s in sides
    )
