"""The figures that matter of each measurement: shown with their spread in the table, drawn
against size in the chart, and those that must stay flat as the seed grows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.repeats import figure

SIZE = "(size)"


@dataclass(frozen=True)
class Series:
    label: str
    measurement: str
    path: tuple[str, ...]  # a "*" step stands for every key found there (one series each)


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    series: tuple[Series, ...]
    goals: tuple[float, ...] = ()  # drawn as dashed lines
    goal_label: str = ""
    log_y: bool = False


def _s(label: str, measurement: str, *path: str) -> Series:
    return Series(label, measurement, path)


PANELS = (
    Panel(
        "AGI decision alone, 200/s",
        "ms",
        (
            _s("server p50", "agi_latency", "at_rate", "server", "p50_ms"),
            _s("server p99", "agi_latency", "at_rate", "server", "p99_ms"),
            _s("client p99", "agi_latency", "at_rate", "client", "p99_ms"),
        ),
        goals=(2.0,),
    ),
    Panel(
        "AGI decision under mixed load, 200/s",
        "ms",
        (
            _s("server p99", "mixed_load", "p99_ms_server"),
            _s("server max", "mixed_load", "max_ms_server"),
            _s("client p99", "mixed_load", "p99_ms_client"),
            _s("client max", "mixed_load", "max_ms_client"),
        ),
        goals=(2.0, 10.0),
        log_y=True,
    ),
    Panel(
        "API operations p99 (app when sent)",
        "ms",
        (_s("", "api_latency", "ops", "*", "judged_p99_ms"),),
        goals=(20.0,),
        log_y=True,
    ),
    Panel(
        "presence of 1,000 users",
        "requests/s",
        (_s("presence", "api_latency", "presence", "requests_per_s"),),
    ),
    Panel("events to every client, p99", "ms", (_s("p99", "event_fanout", "p99_ms"),), goals=(50.0,)),
    Panel(
        "call rate without failures",
        "calls/s",
        (_s("bare", "cps_ratio", "bare_cps"), _s("routed", "cps_ratio", "routed_cps")),
    ),
    Panel("AGI burst 500/s, client p99", "ms", (_s("p99", "agi_burst", "client", "p99_ms"),)),
    Panel(
        "service memory, peak",
        "MiB",
        (_s("peak", "memory", "peak_mib"),),
        goals=(150 / 1.048576,),
        goal_label="goal 150 MB",
    ),
    Panel(
        "conference participants mixed",
        "participants",
        (_s("mixed", "conference_mix", "mixed_participants"),),
    ),
    Panel(
        "stack start at each size",  # SIZE: figures of the size itself, not of a measurement
        "s",
        (_s("seed", SIZE, "seed_seconds"), _s("Asterisk boot", SIZE, "asterisk_boot_seconds")),
    ),
)

# Must stay flat as the seed grows: (label, series, True when a larger value is worse)
FLAT = (
    ("routing decision (AGI server p50)", _s("", "agi_latency", "at_rate", "server", "p50_ms"), True),
    ("presence throughput", _s("", "api_latency", "presence", "requests_per_s"), False),
)
FLAT_TOLERANCE = 1.25  # the largest size may be at most this much worse than the smallest


def expand(series: Series, measurements: list[dict[str, Any]]) -> list[Series]:
    """A series with a "*" step, once for every key found there in any size's figures."""
    if "*" not in series.path:
        return [series]
    at = series.path.index("*")
    keys: dict[str, None] = {}
    for m in measurements:
        node = figure(m.get("figures") or {}, *series.path[:at])
        if isinstance(node, dict):
            keys |= dict.fromkeys(node)
    return [Series(k, series.measurement, (*series.path[:at], k, *series.path[at + 1 :])) for k in keys]


def value(measurement: dict[str, Any] | None, series: Series) -> tuple[Any, Any]:
    """(median, [min, max] or None) of one series in one size's measurement."""
    if measurement is None:
        return None, None
    return figure(measurement.get("figures") or {}, *series.path), figure(
        measurement.get("spread") or {}, *series.path
    )
