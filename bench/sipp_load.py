"""SIPp at a rate: a registered UAS that answers every call, a UAC that offers calls at R per second.

Scenarios are the test suite's (tests/support/sipp_scenarios.py): digest auth on every INVITE,
180 then 200 from the callee, the caller hangs up after ``hold_ms``.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support import sipp_scenarios

SIPP = shutil.which("sipp") or "/usr/bin/sipp"


@dataclass
class StepResult:
    rate: int
    offered: int
    successful: int
    failed: int
    returncode: int

    @property
    def clean(self) -> bool:
        return self.returncode == 0 and self.failed == 0 and self.successful == self.offered


def _base_cmd(scenario: Path, port: int, user: str, password: str) -> list[str]:
    return [
        SIPP,
        "-sf",
        str(scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mp",
        str(port + 20),
        "-s",
        user,
        "-au",
        user,
        "-ap",
        password,
        "-nostdin",
        "-nd",
        "-default_behaviors",
        "all,-bye",
    ]


class Uas:
    """The callee: registers as a device, then answers every call at once until stopped."""

    def __init__(self, workdir: Path, server: tuple[str, int], port: int, user: str, password: str) -> None:
        self.workdir, self.server, self.port, self.user, self.password = workdir, server, port, user, password
        self.proc: subprocess.Popen[bytes] | None = None

    def register(self, timeout_s: float = 10) -> None:
        scen = self.workdir / "register.xml"
        scen.write_text(sipp_scenarios.register())
        cmd = [f"{self.server[0]}:{self.server[1]}", "-m", "1", "-timeout", f"{int(timeout_s)}s"]
        cmd += ["-timeout_error", "-recv_timeout", str(int(timeout_s * 1000))]
        for _attempt in range(2):  # once more after a pause: a port still held, a busy Asterisk
            r = subprocess.run(
                _base_cmd(scen, self.port, self.user, self.password) + cmd,
                capture_output=True,
                timeout=timeout_s + 5,
                check=False,
            )
            if r.returncode == 0:
                return
            time.sleep(2)
        # SIPp's 254 is a port it could not bind; its reason is on stderr
        raise RuntimeError(
            f"UAS registration failed (rc {r.returncode}): {r.stderr[-400:]!r} {r.stdout[-300:]!r}"
        )

    def start(self) -> None:
        scen = self.workdir / "answer.xml"
        scen.write_text(sipp_scenarios.answer(answer_after_ms=0))
        log = (self.workdir / "uas.log").open("wb")
        self.proc = subprocess.Popen(
            [*_base_cmd(scen, self.port, self.user, self.password), "-m", "100000000", "-l", "20000"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None


def offer(
    workdir: Path,
    server: tuple[str, int],
    port: int,
    user: str,
    password: str,
    number: str,
    rate: int,
    seconds: float,
    hold_ms: int,
) -> StepResult:
    """Offer rate*seconds calls at `rate` per second; wait for all of them to end."""
    calls = max(1, int(rate * seconds))
    scen = workdir / f"call-{number}.xml"
    scen.write_text(sipp_scenarios.call(number, hold_ms=hold_ms))
    stat = workdir / f"stat-{number}-{rate}.csv"
    stat.unlink(missing_ok=True)
    limit_s = int(seconds + 20)
    cmd = [
        f"{server[0]}:{server[1]}",
        *["-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", "5000"],
        *["-timeout", f"{limit_s}s", "-timeout_error", "-recv_timeout", "5000"],
        *["-trace_stat", "-stf", str(stat), "-fd", "1"],
    ]
    try:
        r = subprocess.run(
            _base_cmd(scen, port, user, password) + cmd,
            capture_output=True,
            timeout=limit_s + 10,
            check=False,
            cwd=workdir,
        )
        rc = r.returncode
    except subprocess.TimeoutExpired:
        rc = -1
    ok, failed = _last_stats(stat)
    return StepResult(rate, calls, ok, failed, rc)


def _last_stats(stat: Path) -> tuple[int, int]:
    if not stat.exists():
        return 0, 0
    rows = list(csv.DictReader(stat.read_text(errors="replace").splitlines(), delimiter=";"))
    if not rows:
        return 0, 0
    last = rows[-1]
    return int(last.get("SuccessfulCall(C)", 0) or 0), int(last.get("FailedCall(C)", 0) or 0)


def call_counts(stat: Path) -> tuple[int, int]:
    """(successful, failed) calls in a SIPp statistics file."""
    return _last_stats(stat)


def start_calls(
    workdir: Path,
    server: tuple[str, int],
    port: int,
    user: str,
    password: str,
    number: str,
    rate: int,
    calls: int,
    hold_ms: int,
    stat: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Place `calls` calls at `rate` per second that stay up for `hold_ms`, in the background
    (the caller stops the process when done with them). With `stat`, SIPp writes its counters
    there (call_counts reads them)."""
    scen = workdir / f"long-{number}.xml"
    scen.write_text(sipp_scenarios.call(number, hold_ms=hold_ms))
    cmd = [f"{server[0]}:{server[1]}", *["-r", str(rate), "-rp", "1000", "-m", str(calls), "-l", "5000"]]
    cmd += ["-recv_timeout", str(hold_ms + 10_000)]
    if stat is not None:
        stat.unlink(missing_ok=True)
        cmd += ["-trace_stat", "-stf", str(stat), "-fd", "1"]
    return subprocess.Popen(
        _base_cmd(scen, port, user, password) + cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
    )
