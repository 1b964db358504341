"""What one measurement produced: its figures, its goal, and whether the goal was met."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["met", "missed", "info", "not yet", "failed"]


@dataclass
class Result:
    name: str
    goal: str
    figures: dict[str, Any] = field(default_factory=dict)
    status: Status = "info"
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # the machine's 1, 5 and 15 minute load averages just before and just after the measurement
    load_before: list[float] = field(default_factory=list)
    load_after: list[float] = field(default_factory=list)

    def judge(self, met: bool | None) -> Result:
        """met=None: no goal to check (information only)."""
        self.status = "info" if met is None else ("met" if met else "missed")
        return self

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def not_yet(name: str, goal: str, feature: str) -> Result:
    """A measurement whose feature does not exist yet: said so instead of a number."""
    return Result(name, goal, {"value": f"not yet: {feature}"}, status="not yet")


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[rank]


def summary_ms(seconds: list[float]) -> dict[str, float | int]:
    """count, p50, p90, p99, max of durations given in seconds, as milliseconds."""
    ms = [s * 1000 for s in seconds]
    if not ms:
        return {"count": 0}
    return {
        "count": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3),
    }
