"""The repeats of one measurement at one size, combined: the median of every figure, its spread
(min..max over the repeats), and one verdict.

A goal is met when most repeats met it: with one threshold on one figure that is the same as the
median meeting it. A repeat that broke makes the whole measurement "failed" (shown, not hidden).
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.results import Result


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and v == v  # NaN is no figure


def median_of(values: list[Any]) -> Any:
    """Numbers: their median; dicts: key by key (the keys of any repeat); anything else (lists,
    text): the first repeat's."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(isinstance(v, dict) for v in present):
        keys = list(dict.fromkeys(k for v in present for k in v))
        return {k: median_of([v[k] for v in present if k in v]) for k in keys}
    if all(_number(v) for v in present):
        m = statistics.median(present)
        if all(isinstance(v, int) for v in present) and float(m).is_integer():
            return int(m)  # counts stay counts
        return round(m, 3) if isinstance(m, float) else m
    return present[0]


def spread_of(values: list[Any]) -> Any:
    """[min, max] of every number, in the figures' own layout (None where there is nothing)."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dict) for v in present):
        out = {}
        for k in dict.fromkeys(k for v in present for k in v):
            s = spread_of([v[k] for v in present if k in v])
            if s is not None:
                out[k] = s
        return out or None
    if present and all(_number(v) for v in present):
        return [min(present), max(present)]
    return None


def verdict(statuses: list[str]) -> str:
    if "failed" in statuses:
        return "failed"
    judged = [s for s in statuses if s in ("met", "missed")]
    if judged:
        return "met" if 2 * judged.count("met") > len(judged) else "missed"
    return "not yet" if statuses and all(s == "not yet" for s in statuses) else "info"


def combine(results: list[Result]) -> dict[str, Any]:
    """One measurement's repeats at one size, as written to the results file."""
    first = results[0]
    figures = [r.figures for r in results]
    notes = list(dict.fromkeys(n for r in results for n in r.notes))
    return {
        "name": first.name,
        "goal": first.goal,
        "status": verdict([r.status for r in results]),
        "runs": len(results),
        "figures": median_of(figures),
        "spread": spread_of(figures) if len(results) > 1 else None,
        "notes": notes,
        "seconds": round(sum(r.seconds for r in results), 1),
        "repeats": [
            {
                "status": r.status,
                "seconds": r.seconds,
                "load_average_before": r.load_before,
                "load_average_after": r.load_after,
                "figures": r.figures,
                "notes": r.notes,
            }
            for r in results
        ],
    }


def figure(doc: dict[str, Any], *path: str) -> Any:
    """The value at `path` in nested dicts (None if any step is missing)."""
    d: Any = doc
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d
