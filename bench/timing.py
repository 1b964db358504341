"""Request timings of the API operations: the client's total and, when the response carries a
``Server-Timing`` header (``app;dur=<ms>, ami;dur=<ms>``), the service's own work (`app`) and its
wait on Asterisk (`ami`) apart. The goal (p99 <= 20 ms) is judged on `app` when the service sends
it, otherwise on the total.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bench.results import summary_ms

GOAL_P99_MS = 20.0
METRICS = ("app", "ami")
# one metric: a token, then ;-separated parameters whose values may be quoted strings
_TOKEN = re.compile(r"\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*")
_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?\s*')


def parse_server_timing(values: str | Iterable[str] | None) -> dict[str, float]:
    """{metric: dur in ms} of one or more Server-Timing header values. Lenient as browsers are: a
    metric without a usable `dur` is left out, garbage up to the next comma is skipped, the first
    occurrence of a metric wins, names are lower-cased."""
    if values is None:
        return {}
    text = values if isinstance(values, str) else ",".join(values)
    out: dict[str, float] = {}
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:  # skip to the next metric
            comma = text.find(",", pos)
            if comma < 0:
                break
            pos = comma + 1
            continue
        name, pos = m.group(1).lower(), m.end()
        dur: float | None = None
        while (p := _PARAM.match(text, pos)) is not None and p.end() > pos:
            pos = p.end()
            if p.group(1).lower() == "dur" and dur is None:
                raw = (p.group(2) or "").strip('"')
                try:
                    value = float(raw)
                except ValueError:
                    value = -1.0
                if value >= 0 and value == value and value != float("inf"):
                    dur = value
        comma = text.find(",", pos)
        pos = len(text) if comma < 0 else comma + 1
        if dur is not None and name not in out:
            out[name] = dur
    return out


class OpTimes:
    """Totals, statuses and the service's Server-Timing of one kind of request (or wait)."""

    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds
        self.statuses: Counter[int] = Counter()
        self.server: dict[str, list[float]] = {m: [] for m in METRICS}  # ms
        self.missing = 0  # a wait that did not end in time

    def add(self, seconds: float, status: int | None = None, server_timing: Any = None) -> None:
        self.latencies.append(seconds)
        if status is not None:
            self.statuses[status] += 1
        for name, ms in parse_server_timing(server_timing).items():
            if name in self.server:
                self.server[name].append(ms)

    def started(self) -> float:
        return time.perf_counter()

    def wait(self, started: float, ended: float | None) -> None:
        if ended is None:
            self.missing += 1
        else:
            self.latencies.append(ended - started)

    def figures(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(summary_ms(self.latencies))
        if self.statuses:
            ok = sum(n for s, n in self.statuses.items() if s < 400)
            out |= {"statuses": dict(self.statuses), "errors": sum(self.statuses.values()) - ok}
        for name, values in self.server.items():
            if values:
                out[name] = summary_ms([v / 1000 for v in values])
        if self.missing:
            out["missing"] = self.missing
        return out


def judged(fig: Any) -> tuple[float | None, str]:
    """(p99 the goal is judged on, "app" or "total") of an operation's figures."""
    if not isinstance(fig, dict):
        return None, "total"
    app = fig.get("app")
    if isinstance(app, dict) and app.get("count"):
        return app.get("p99_ms"), "app"
    return fig.get("p99_ms"), "total"


def op_row(fig: Any) -> dict[str, Any]:
    """One line of the operations table: p50/p99 of the total, of `app` and `ami`, and the judged p99."""
    if not isinstance(fig, dict):
        return {"value": fig}
    row: dict[str, Any] = {"p50_ms": fig.get("p50_ms"), "p99_ms": fig.get("p99_ms")}
    for name in METRICS:
        sub = fig.get(name)
        if isinstance(sub, dict):
            row[f"{name}_p50_ms"], row[f"{name}_p99_ms"] = sub.get("p50_ms"), sub.get("p99_ms")
    value, basis = judged(fig)
    row |= {"judged_p99_ms": value, "judged_on": basis, "errors": fig.get("errors", 0)}
    return row


def op_met(fig: Any) -> bool:
    value, _ = judged(fig)
    return isinstance(fig, dict) and fig.get("errors", 0) == 0 and value is not None and value <= GOAL_P99_MS
