"""HTTP load from wrk (C, one thread per core): throughput and latency percentiles of one GET.

wrk keeps `connections` requests in flight all the time (closed loop), so the latency it reports
is what 50 busy clients see. Non-2xx answers are counted as errors. When the service answers with
a ``Server-Timing`` header (one request tried first), a Lua script of wrk's keeps every response's
value and the figures get `app` and `ami` percentiles too (bench/timing.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

from bench.timing import OpTimes

WRK = shutil.which("wrk") or "/usr/bin/wrk"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


# Each thread keeps the header values (globals: the main state reads them with thread:get).
_LUA = """
st_values = {}
st_n = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  local v = headers["Server-Timing"] or headers["server-timing"]
  if v then st_n = st_n + 1; st_values[st_n] = v end
end
function done(summary, latency, requests)
  local f = assert(io.open(os.getenv("PBX_BENCH_WRK_TIMING"), "w"))
  for _, t in ipairs(threads) do
    local values, n = t:get("st_values"), t:get("st_n")
    for i = 1, n do f:write(values[i], "\\n") end
  end
  f:close()
end
"""


def server_timing_of(url: str, token: str) -> str | None:
    """The Server-Timing header of one GET (None: the service sends none, or the request failed)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310
            r.read()
            value: str | None = r.headers.get("Server-Timing")
            return value
    except OSError:
        return None


def wrk_get(url: str, token: str, connections: int, seconds: float, threads: int = 2) -> dict[str, Any]:
    """wrk's figures for one URL, with `app` / `ami` from Server-Timing when the service sends it."""
    if server_timing_of(url, token) is None:
        return _wrk(url, token, connections, seconds, threads, None)
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        script, values = Path(tmp) / "timing.lua", Path(tmp) / "timing.txt"
        script.write_text(_LUA)
        figures = _wrk(url, token, connections, seconds, threads, (script, values))
        times = OpTimes()
        lines = values.read_text().splitlines() if values.exists() else []
        for line in lines:
            times.add(0.0, None, line)
        timing = times.figures()
        figures |= {k: timing[k] for k in ("app", "ami") if k in timing}
        figures["server_timing_responses"] = len(lines)
        return figures


def _wrk(
    url: str,
    token: str,
    connections: int,
    seconds: float,
    threads: int,
    lua: tuple[Path, Path] | None,
) -> dict[str, Any]:
    env = None
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
    ]
    if lua is not None:
        cmd += ["-s", str(lua[0])]
        env = {**os.environ, "PBX_BENCH_WRK_TIMING": str(lua[1])}
    cmd.append(url)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, check=False, env=env)
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
