"""Profiling the service during a measurement (``python -m bench --profile NAME``) with py-spy, and
waiting for the service to be idle before measuring (its start-up work would be measured too).

py-spy samples the running service from outside (no code change, nothing slowed but the sampling);
its raw output (collapsed stacks) is summarised here: where the time goes, by function.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

PY_SPY = shutil.which("py-spy") or str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "py-spy")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pids: Sequence[int], below: float = 0.05, quiet_s: int = 3, timeout_s: float = 120) -> float:
    """Wait until each process used less than `below` of a core in each of `quiet_s` seconds in a
    row; the seconds waited."""
    started = time.monotonic()
    last = [cpu_seconds(pid) for pid in pids]
    quiet = 0
    while quiet < quiet_s and time.monotonic() - started < timeout_s:
        time.sleep(1.0)
        now = [cpu_seconds(pid) for pid in pids]
        quiet = quiet + 1 if all(b - a < below for a, b in zip(last, now, strict=True)) else 0
        last = now
    return round(time.monotonic() - started, 1)


class Profiler:
    def __init__(self, pid: int, out: Path, rate: int = 250) -> None:
        self.out = out
        # The service and its children (the FastAGI process): each stack starts with its process.
        command = [PY_SPY, "record", "--pid", str(pid), "--subprocesses", "--rate", str(rate)]
        self.proc = subprocess.Popen(
            [*command, "--format", "raw", "-o", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> Path:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.out


def summarise(raw: Path, top: int = 30) -> str:
    """Self and inclusive sample shares per function from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [
            f.split(" (", 1)[0] + " " + f.rsplit("/", 1)[-1].split(":")[0].rstrip(")")
            for f in stack.split(";")
        ]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "self %  function"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in own.most_common(top)]
    lines += ["", "incl %  function"]
    lines += [f"{100 * n / total:6.1f}  {f}" for f, n in inclusive.most_common(top)]
    return "\n".join(lines)
