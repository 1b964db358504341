"""HTTP load from wrk (C, one thread per core): throughput and latency percentiles of one GET.

wrk keeps `connections` requests in flight all the time (closed loop), so the latency it reports
is what 50 busy clients see. Non-2xx answers are counted as errors.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

WRK = shutil.which("wrk") or "/usr/bin/wrk"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


def wrk_get(url: str, token: str, connections: int, seconds: float, threads: int = 2) -> dict[str, Any]:
    cmd = [
        WRK,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--latency",
        "--timeout",
        "5s",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False)
    return parse(r.stdout) | ({"wrk_error": r.stderr.strip()[-300:]} if r.returncode else {})


def parse(out: str) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for pct, value, unit in _PERCENTILE.findall(out):
        figures[f"p{pct}_ms"] = round(float(value) * _UNITS[unit], 3)
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        figures["requests_per_s"] = round(float(m.group(1)), 1)
    if m := re.search(r"(\d+) requests in", out):
        figures["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(m.group(1)) if m else 0
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())
    figures["errors"] = errors
    return figures
