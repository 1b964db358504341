"""memory: the control service's resident memory (VmRSS, with its child processes': the FastAGI
server may run in one of its own), sampled all through the run, per phase."""

from __future__ import annotations

import ctypes
import platform
import threading
from pathlib import Path

from bench.results import Result

GOAL = "peak RSS under load <= 150 MB"
LIMIT_MB = 150.0


def _own_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# kcmp(2): do two processes share one address space? A child started by vfork (Python's
# subprocess, the service's programs) shares its parent's until its exec, and its VmRSS is the
# parent's: counted again, a greeting's espeak-ng looked like a second service for a moment.
_SYS_KCMP = {"x86_64": 312, "aarch64": 272}.get(platform.machine())
_KCMP_VM = 1


_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded once: the sampler asks every 200 ms


def same_address_space(a: int, b: int) -> bool:
    """True when a and b (processes or threads) share their memory (False when unknown)."""
    if _SYS_KCMP is None:
        return False
    return int(_LIBC.syscall(_SYS_KCMP, a, b, _KCMP_VM, 0, 0)) == 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _label(pid: int, top: int) -> str:
    """Which process: the service, its FastAGI process, or a program by its name."""
    if pid == top:
        return "service"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "gone"
    if b"pbx_control.service_agi" in argv:
        return "fastagi"
    return Path(argv[0].decode(errors="replace")).name or "child"


def rss_by_process(pid: int, top: int | None = None) -> dict[str, float]:
    """VmRSS of the process and its descendants, added up by label (a child that is gone, or that
    still shares its parent's memory, counts nothing)."""
    top = pid if top is None else top
    out = {_label(pid, top): _own_rss_mib(pid)}
    for child in _children(pid):
        try:
            if same_address_space(child, pid):
                continue
            for label, mib in rss_by_process(child, top).items():
                out[label] = out.get(label, 0.0) + mib
        except OSError:
            continue
    return out


def rss_mib(pid: int) -> float:
    """The process's VmRSS plus its descendants'."""
    return sum(rss_by_process(pid).values())


class RssSampler:
    """Samples a process's RSS every `period_s` in a thread; the peak per named phase."""

    def __init__(self, pid: int, period_s: float = 0.2) -> None:
        self.pid = pid
        self.period_s = period_s
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        # the peak of each process (service, fastagi, programs by name) over the whole run
        self.process_peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def start(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def sample(self) -> float:
        try:
            parts = rss_by_process(self.pid)
        except OSError:
            return 0.0
        value = sum(parts.values())
        self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), value)
        for label, mib in parts.items():
            self.process_peaks[label] = max(self.process_peaks.get(label, 0.0), mib)
        return value

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            self.sample()

    def enter(self, phase: str) -> None:
        self.sample()
        self.phase = phase
        self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def result(sampler: RssSampler, smoke: bool, load_phases: tuple[str, ...]) -> Result:
    peaks = {k: round(v, 1) for k, v in sampler.peaks.items()}
    under_load = [v for k, v in peaks.items() if k in load_phases]
    peak = max(under_load or peaks.values() or [0.0])
    by_process = {k: round(v, 1) for k, v in sampler.process_peaks.items()}
    figures = {
        "peak_mib": peak,
        "idle_mib": peaks.get("start"),
        "peak_by_phase": peaks,
        "peak_by_process": by_process,
    }
    out = Result("memory", GOAL, figures)
    out.notes.append(f"peak over: {', '.join(p for p in load_phases if p in peaks)}")
    return out.judge(None if smoke else peak * 1.048576 <= LIMIT_MB)
