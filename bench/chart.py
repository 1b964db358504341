"""The chart: each key figure (bench.keyfigures) against the seed's size, the median of the repeats
with its spread (min..max) as error bars, goals as dashed lines. A PNG next to the results file; a
complete full run also copies it to bench/charts/latest-full.png, which BENCHMARKS.md shows."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Any

from bench.keyfigures import PANELS, SIZE, expand, value

PUBLISHED = Path(__file__).resolve().parent / "charts" / "latest-full.png"


def _measurements(doc: dict[str, Any], name: str) -> list[tuple[int, dict[str, Any] | None]]:
    if name == SIZE:
        return [(size["users"], {"figures": size}) for size in doc["sizes"]]
    return [
        (size["users"], next((m for m in size["measurements"] if m["name"] == name), None))
        for size in doc["sizes"]
    ]


def draw(doc: dict[str, Any], out: Path) -> str:
    """Write the chart; its path (as text, for the results file)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    cols = 4
    rows = math.ceil(len(PANELS) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.5 * rows), squeeze=False)
    sizes = [size["users"] for size in doc["sizes"]]
    for ax, panel in zip(axes.flat, PANELS, strict=False):
        drawn = 0
        for series in panel.series:
            found = [m for _, m in _measurements(doc, series.measurement) if m is not None]
            for one in expand(series, found):
                xs, ys, low, high = [], [], [], []
                for users, m in _measurements(doc, one.measurement):
                    median, spread = value(m, one)
                    if not isinstance(median, int | float) or isinstance(median, bool):
                        continue
                    lo, hi = spread if isinstance(spread, list) else (median, median)
                    xs.append(users)
                    ys.append(median)
                    low.append(max(0.0, median - lo))
                    high.append(max(0.0, hi - median))
                if xs:
                    ax.errorbar(xs, ys, yerr=[low, high], marker="o", capsize=3, label=one.label or None)
                    drawn += 1
        for goal in panel.goals if drawn else ():
            label = panel.goal_label or f"goal {goal:g}"
            ax.axhline(goal, linestyle="--", color="grey", linewidth=1, label=label)
        ax.set_title(panel.title, fontsize=10)
        ax.set_ylabel(panel.unit)
        ax.set_xlabel("users in the seed")
        if len(set(sizes)) > 1:
            ax.set_xscale("log")
            ax.set_xlim(min(sizes) / 1.5, max(sizes) * 1.5)
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        if drawn and not panel.log_y:
            ax.set_ylim(0, ax.get_ylim()[1] * 1.1)  # flat or not at a glance: no zoom on small differences
        if panel.log_y and drawn:
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(NullFormatter())
        if drawn:
            ax.legend(fontsize=6, ncol=2 if drawn > 6 else 1)
        else:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.grid(True, alpha=0.3)
    for ax in list(axes.flat)[len(PANELS) :]:
        ax.axis("off")
    run = doc.get("run", {})
    fig.suptitle(
        f"pbx-control bench ({run.get('mode')}, {run.get('finished_at')}): median of "
        f"{run.get('repeats')} runs per size, bars min..max",
        fontsize=11,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return str(out)


def publish(picture: Path) -> None:
    PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(picture, PUBLISHED)
