"""The printed table (one line per measurement: headline figure, goal, verdict) and latest.json."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import Result


def _g(d: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _api(f: dict[str, Any]) -> str:
    parts = []
    presence = f.get("presence")
    if isinstance(presence, dict):
        parts.append(f"presence {presence.get('requests_per_s')}/s p99 {presence.get('p99_ms')} ms")
    else:
        parts.append(f"presence: {presence}")
    login = f.get("queue_login")
    parts.append(
        f"queue login p50 {login.get('p50_ms')} p99 {login.get('p99_ms')} ms"
        if isinstance(login, dict)
        else f"queue login: {login}"
    )
    for name in ("park", "transfer"):
        v = f.get(name)
        parts.append(
            f"{name} p50 {v.get('p50_ms')} p99 {v.get('p99_ms')} ms ({v.get('errors')} errors)"
            if isinstance(v, dict)
            else f"{name}: {v}"
        )
    me = f.get("baseline_users_me") or {}
    parts.append(f"(GET /users/me {me.get('requests_per_s')}/s p99 {me.get('p99_ms')} ms)")
    return "; ".join(parts)


def headline(r: Result) -> str:
    f = r.figures
    if r.status == "failed":
        return f"FAILED: {r.notes[-1] if r.notes else '?'}"
    if r.name == "cps_ratio":
        return (
            f"routed {f.get('routed_cps')} / bare {f.get('bare_cps')} calls/s = {f.get('ratio')} "
            f"(without any fallback to PostgreSQL: {f.get('routed_cps_without_fallbacks')} calls/s "
            f"= {f.get('ratio_without_fallbacks')})"
        )
    if r.name == "agi_latency":
        rate, conc = f.get("at_rate", {}), f.get("concurrent", {})
        return (
            f"at {rate.get('offered_per_s')}/s p50/p99 server {_g(rate, 'server', 'p50_ms')}/"
            f"{_g(rate, 'server', 'p99_ms')} ms, client {_g(rate, 'client', 'p50_ms')}/"
            f"{_g(rate, 'client', 'p99_ms')} ms; {conc.get('sessions_at_once')} at once: "
            f"{conc.get('sessions_per_s')}/s, client p99 {_g(conc, 'client', 'p99_ms')} ms"
        )
    if r.name == "agi_burst":
        return (
            f"{f.get('failed')} failed of {f.get('connections')} at {f.get('achieved_per_s')}/s "
            f"(p99 {_g(f, 'client', 'p99_ms')} ms)"
        )
    if r.name == "process_agi_ratio":
        proc, fast = f.get("process", {}), f.get("fastagi", {})
        return (
            f"process {proc.get('p50_ms')} ms vs FastAGI {fast.get('client_p50_ms')} ms per call "
            f"(x{f.get('time_ratio_p50')}); {proc.get('peak_rss_mib_per_call')} MiB per call vs "
            f"{fast.get('service_rss_mib')} MiB for the whole service"
        )
    if r.name == "api_latency":
        return _api(f)
    if r.name == "event_fanout":
        d = f.get("deliveries", {})
        return (
            f"p50 {d.get('p50_ms')} p99 {d.get('p99_ms')} ms to {f.get('clients')} clients "
            f"({d.get('count')} deliveries, dropped {f.get('clients_dropped') or 0})"
        )
    if r.name == "conference_mix":
        room = f.get("pin_to_room", {})
        return (
            f"{'>= ' if f.get('capped') else ''}{f.get('mixed_participants')} participants mixed in rooms of "
            f"{f.get('room_size')} ({f.get('stopped_by')}); PIN to room p50/p99 {room.get('p50_ms')}/"
            f"{room.get('p99_ms')} ms (prompt {f.get('prompt_ms')} ms included)"
        )
    if r.name == "memory":
        return f"peak {f.get('peak_mib')} MiB (idle {f.get('idle_mib')} MiB)"
    return json.dumps(f)[:100]


def table(results: list[Result]) -> str:
    rows = [("measurement", "result", "goal", "verdict")]
    rows += [(r.name, headline(r), r.goal, r.status) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in (0, 2, 3)]
    lines = []
    for name, figure, goal, status in rows:
        lines.append(f"{name:<{widths[0]}}  {status:<{widths[2]}}  {goal:<{widths[1]}}")
        lines.append(f"{'':<{widths[0]}}  {figure}")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def write(path: Path, results: list[Result], run: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "run": {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), **run},
        "measurements": [r.as_json() for r in results],
    }
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
