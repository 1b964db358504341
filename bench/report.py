"""The printed table (per size, one entry per measurement: verdict, goal, headline figures and
their spread over the repeats), every goal's verdict at each size, the flatness checks, and the
results file (latest.json)."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import keyfigures
from bench.timing import METRICS


def _g(d: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _ms(v: Any) -> str:
    return "-" if v is None else f"{v:g}" if isinstance(v, int | float) else str(v)


def _api(f: dict[str, Any]) -> str:
    presence = f.get("presence")
    parts = [
        f"presence {presence.get('requests_per_s')}/s"
        if isinstance(presence, dict)
        else f"presence: {presence}"
    ]
    for name, row in (f.get("ops") or {}).items():
        if "value" in row:
            parts.append(f"{name}: {row['value']}")
            continue
        text = f"{name} p50/p99 {_ms(row.get('p50_ms'))}/{_ms(row.get('p99_ms'))}"
        for metric in METRICS:
            if row.get(f"{metric}_p99_ms") is not None:
                text += f" ({metric} {_ms(row.get(f'{metric}_p50_ms'))}/{_ms(row.get(f'{metric}_p99_ms'))})"
        if row.get("errors"):
            text += f" {row['errors']} errors"
        parts.append(text)
    for name in ("park", "transfer"):
        if isinstance(f.get(name), str):
            parts.append(f"{name}: {f[name]}")
    me = f.get("baseline_users_me") or {}
    parts.append(f"(GET /users/me {me.get('requests_per_s')}/s p99 {me.get('p99_ms')} ms)")
    return "; ".join(parts) + " [ms; app = the service's own work, ami = its wait on Asterisk]"


def _mixed(f: dict[str, Any]) -> str:
    a, load, ev = f.get("agi", {}), f.get("load", {}), f.get("events", {})
    api = "; ".join(
        f"{name} {_g(v, 'achieved_per_s')}/s p99 {_g(v, 'p99_ms')} ms"
        + (f" (app {_g(v, 'app', 'p99_ms')})" if _g(v, "app", "p99_ms") is not None else "")
        for name, v in (f.get("api") or {}).items()
        if isinstance(v, dict)
    )
    return (
        f"AGI at {a.get('achieved_per_s')}/s: server p50/p99/max {_g(a, 'server', 'p50_ms')}/"
        f"{f.get('p99_ms_server')}/{f.get('max_ms_server')} ms, client {_g(a, 'client', 'p50_ms')}/"
        f"{f.get('p99_ms_client')}/{f.get('max_ms_client')} ms ({a.get('outcomes')}); under it: {api}; "
        f"events p99 {ev.get('p99_ms')} ms to {load.get('websocket_clients')} clients; "
        f"{_g(f, 'calls', 'successful')} calls of {_g(f, 'calls', 'offered')} at {load.get('calls_per_s')}/s"
    )


def headline(m: dict[str, Any]) -> str:
    f, name, notes = m.get("figures") or {}, m["name"], m.get("notes") or []
    if m["status"] == "failed":
        return f"FAILED: {notes[-1] if notes else '?'}"
    if name == "mixed_load":
        return _mixed(f)
    if name == "cps_ratio":
        return (
            f"routed {f.get('routed_cps')} / bare {f.get('bare_cps')} calls/s = {f.get('ratio')} "
            f"(without any fallback to PostgreSQL: {f.get('routed_cps_without_fallbacks')} calls/s "
            f"= {f.get('ratio_without_fallbacks')})"
        )
    if name == "agi_latency":
        rate, conc = f.get("at_rate", {}), f.get("concurrent", {})
        return (
            f"at {rate.get('offered_per_s')}/s p50/p99 server {_g(rate, 'server', 'p50_ms')}/"
            f"{_g(rate, 'server', 'p99_ms')} ms, client {_g(rate, 'client', 'p50_ms')}/"
            f"{_g(rate, 'client', 'p99_ms')} ms; {conc.get('sessions_at_once')} at once: "
            f"{conc.get('sessions_per_s')}/s, client p99 {_g(conc, 'client', 'p99_ms')} ms"
        )
    if name == "agi_burst":
        return (
            f"{f.get('failed')} failed of {f.get('connections')} at {f.get('achieved_per_s')}/s "
            f"(p99 {_g(f, 'client', 'p99_ms')} ms)"
        )
    if name == "process_agi_ratio":
        proc, fast = f.get("process", {}), f.get("fastagi", {})
        return (
            f"process {proc.get('p50_ms')} ms vs FastAGI {fast.get('client_p50_ms')} ms per call "
            f"(x{f.get('time_ratio_p50')}); {proc.get('peak_rss_mib_per_call')} MiB per call vs "
            f"{fast.get('service_rss_mib')} MiB for the whole service"
        )
    if name == "api_latency":
        return _api(f)
    if name == "event_fanout":
        d = f.get("deliveries", {})
        return (
            f"p50 {d.get('p50_ms')} p99 {d.get('p99_ms')} ms to {f.get('clients')} clients "
            f"({d.get('count')} deliveries, dropped {f.get('clients_dropped') or 0})"
        )
    if name == "conference_mix":
        room = f.get("pin_to_room", {})
        return (
            f"{'>= ' if f.get('capped') else ''}{f.get('mixed_participants')} participants mixed in rooms of "
            f"{f.get('room_size')} ({f.get('stopped_by')}); PIN to room p50/p99 {room.get('p50_ms')}/"
            f"{room.get('p99_ms')} ms (prompt {f.get('prompt_ms')} ms included)"
        )
    if name == "memory":
        each = ", ".join(f"{k} {v}" for k, v in sorted((f.get("peak_by_process") or {}).items()))
        return f"peak {f.get('peak_mib')} MiB (idle {f.get('idle_mib')} MiB); each process's own peak: {each}"
    return json.dumps(f)[:100]


def _spread_line(m: dict[str, Any]) -> str:
    if (m.get("runs") or 1) < 2:
        return ""
    parts = []
    for panel in keyfigures.PANELS:
        for series in panel.series:
            if series.measurement != m["name"]:
                continue
            for one in keyfigures.expand(series, [m]):
                median, spread = keyfigures.value(m, one)
                if median is not None and isinstance(spread, list):
                    parts.append(f"{one.label} {_ms(median)} [{_ms(spread[0])}..{_ms(spread[1])}]")
    return f"median of {m['runs']} runs [min..max]: " + ", ".join(parts) if parts else ""


def table(doc: dict[str, Any]) -> str:
    lines: list[str] = []
    for size in doc["sizes"]:
        lines.append(
            f"== {size['users']:,} users (seed {size.get('seed')} in {size.get('seed_seconds')} s; "
            f"Asterisk booted in {size.get('asterisk_boot_seconds')} s) =="
        )
        if "error" in size:
            lines.append(f"   FAILED: {size['error']}")
        ms = size["measurements"]
        width = max([len(m["name"]) for m in ms] + [11])
        for m in ms:
            lines.append(f"{m['name']:<{width}}  {m['status']:<7}  {m['goal']}")
            lines.append(f"{'':<{width}}  {headline(m)}")
            if spread := _spread_line(m):
                lines.append(f"{'':<{width}}  {spread}")
        lines.append("")
    lines.append("goals, at each size (users):")
    for goal in doc["goals"]:
        at = ", ".join(f"{users:,}: {status}" for users, status in goal["verdicts"])
        lines.append(f"  {goal['name']:<18} {goal['verdict']:<7} {goal['goal']}  [{at}]")
    for flat in doc["flat"]:
        lines.append(f"  flat: {flat['label']:<34} {flat['verdict']:<7} {flat['text']}")
    return "\n".join(lines)


def _goals(sizes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every measurement's verdict at each size; met only where met at every size."""
    out: dict[str, dict[str, Any]] = {}
    for size in sizes:
        for m in size["measurements"]:
            goal = out.setdefault(m["name"], {"name": m["name"], "goal": m["goal"], "verdicts": []})
            goal["verdicts"].append((size["users"], m["status"]))
    for goal in out.values():
        statuses = {s for _, s in goal["verdicts"]}
        order = ("failed", "missed", "not yet", "info", "met")
        goal["verdict"] = next((s for s in order if s in statuses), "info")
    return list(out.values())


def _flat(sizes: list[dict[str, Any]], smoke: bool) -> list[dict[str, Any]]:
    out = []
    for label, series, larger_is_worse in keyfigures.FLAT:
        points = []
        for size in sizes:
            m = next((m for m in size["measurements"] if m["name"] == series.measurement), None)
            v, _ = keyfigures.value(m, series)
            if isinstance(v, int | float) and v > 0:
                points.append((size["users"], v))
        entry: dict[str, Any] = {"label": label, "path": [series.measurement, *series.path], "points": points}
        if len(points) < 2:
            entry |= {"verdict": "info", "text": "needs two sizes"}
        else:
            (small, a), (large, b) = points[0], points[-1]
            worse = b / a if larger_is_worse else a / b
            entry["worse_by"] = round(worse, 3)
            entry["verdict"] = "info" if smoke else "met" if worse <= keyfigures.FLAT_TOLERANCE else "missed"
            entry["text"] = (
                f"{_ms(a)} at {small:,} users -> {_ms(b)} at {large:,}: x{worse:.2f} as costly "
                f"(goal <= x{keyfigures.FLAT_TOLERANCE})"
            )
        out.append(entry)
    return out


def document(sizes: list[dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"), **run},
        "goals": _goals(sizes),
        "flat": _flat(sizes, run.get("mode") == "smoke"),
        "sizes": sizes,
    }


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


def write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
