"""Where a call's CPU goes: CPU seconds used by Asterisk, the service, its FastAGI process and
PostgreSQL over a window, read from /proc (utime + stime of every process and thread, so a
PostgreSQL backend's work counts under postgres whichever client asked for it).

cps_ratio records this for every step, bare and routed at the same rate: the routed path's extra
milliseconds of CPU per call, by process, are what routing costs the machine (at saturation both
paths use the two cores; the cost per call decides the rate).
"""

from __future__ import annotations

import os
from pathlib import Path

GROUPS = ("asterisk", "service", "fastagi", "postgres")
_TICK = os.sysconf("SC_CLK_TCK")


def _group(pid: str, service_pid: int) -> str | None:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    if int(pid) == service_pid:
        return "service"
    if b"pbx_control.service_agi" in argv:
        return "fastagi"
    name = Path(argv[0].decode(errors="replace")).name
    if name == "asterisk":
        return "asterisk"
    if name == "postgres" or name.startswith("postgres:"):
        return "postgres"
    return None


def snapshot(service_pid: int) -> dict[str, float]:
    """CPU seconds so far of every process in GROUPS (a process that ended meanwhile is lost:
    these are all long-lived, PostgreSQL's backends pooled)."""
    out = dict.fromkeys(GROUPS, 0.0)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        group = _group(pid, service_pid)
        if group is None:
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[group] += (int(fields[11]) + int(fields[12])) / _TICK
    return out


def ms_per_call(before: dict[str, float], after: dict[str, float], calls: int) -> dict[str, float]:
    """CPU milliseconds per call by group between two snapshots (and their sum, `total`)."""
    if calls <= 0:
        return {}
    out = {g: round(1000 * (after[g] - before[g]) / calls, 2) for g in GROUPS}
    out["total"] = round(sum(out[g] for g in GROUPS), 2)
    return out
