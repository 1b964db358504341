"""The bench's own stack: PostgreSQL, Asterisk (with a bench-only bare context) and the control
service as a subprocess (bench.service: the real service plus an AGI timing hook), on ports of
their own (never the `make run` or test ports)."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pbx_control.config import Settings
from pbx_control.kernel import entry as process_entry
from pbx_control.runtime.asterisk import AsteriskInstance
from pbx_control.runtime.service_process import wait_healthy
from pbx_control.runtime.stack import Ports, Stack

ROOT = Path(__file__).resolve().parents[1]
BARE_EXTENSION = "99999999"
# AMI events the service does not use, sent for every dialplan step and variable of every call.
NOISY_AMI_EVENTS = ("VarSet", "Newexten", "AGIExecStart", "AGIExecEnd", "RTCPSent", "RTCPReceived")
TRUNK_HOST = "127.0.0.2"


def bare_dialplan(target_endpoint: str) -> str:
    """Bench-only: from a device, this one extension dials straight through (no FastAGI).
    Merged into [pbx-from-device] (an exact extension wins over its pattern)."""
    return (
        "; rendered by bench/ into the bench instance only: the bare path of cps_ratio\n"
        "[pbx-from-device]\n"
        f"exten => {BARE_EXTENSION},1,Dial(PJSIP/{target_endpoint},30)\n"
        " same => n,Goto(pbx-after-dial,${DIALSTATUS},1)\n"
    )


@dataclass
class BenchAsterisk(AsteriskInstance):
    bare_target: str = ""

    def render(self) -> None:
        super().render()
        # Registrations of earlier runs (other port bases) would stay in astdb: a call to the
        # callee would ring a contact nobody answers. The bench's instance starts with none.
        (self.host_path(f"{self.base}/lib") / "astdb.sqlite3").unlink(missing_ok=True)
        (self.etc_dir / "extensions_bench.conf").write_text(bare_dialplan(self.bare_target))
        conf = self.etc_dir / "extensions.conf"
        text = conf.read_text()
        if "extensions_bench.conf" not in text:
            conf.write_text(text + '\n#include "extensions_bench.conf"\n')
        # Event timestamps from Asterisk itself: event_fanout measures from the AMI event's birth.
        manager = self.etc_dir / "manager.conf"
        text = manager.read_text()
        if "timestampevents" not in text:
            text = text.replace("[general]\n", "[general]\ntimestampevents = yes\n", 1)
            if os.environ.get("PBX_BENCH_AMI_EVENTFILTER"):  # an experiment, off by default (BENCHMARKS.md)
                text += "".join(f"eventfilter = !Event: {e}\n" for e in NOISY_AMI_EVENTS)
            manager.write_text(text)


class ControlProcess:
    """The control service against the bench stack, as in production (log level info), with the
    AGI timing hook of bench.service."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.stats_path = log_path.with_name("agi-sessions.json")
        self.env = {**os.environ, **env, "PBX_LOG_LEVEL": "info", "PBX_BENCH_AGI_STATS": str(self.stats_path)}
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = f"http://127.0.0.1:{env['PBX_API_PORT']}/api/v1"
        self._log_offset = 0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout_s: float = 30) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                process_entry.command("bench.service"), cwd=ROOT, env=self.env, stdout=log, stderr=log
            )
        wait_healthy(self.proc, self.api, self.log_path, timeout_s)

    def wait_log(self, event: str, timeout_s: float = 120) -> None:
        """Wait for a structured log line with this event (e.g. "ami.ready": start-up callbacks done)."""
        needle = f'"event": "{event}"'
        deadline = time.monotonic() + timeout_s
        while needle not in self.log_path.read_text(errors="replace"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {event} in {self.log_path} within {timeout_s}s")
            time.sleep(0.2)

    def agi_sessions(self, timeout_s: float = 10) -> dict[str, Any]:
        """The server-side session times recorded since the last call (and start a new recording).
        From the in-process hook, or else (the AGI server in a process of its own) from the AGI
        server's `agi.session.end` log lines (0.01 ms resolution); "source" says which."""
        stats = self._hooked_sessions(timeout_s)
        log_offset, self._log_offset = self._log_offset, self.log_path.stat().st_size
        if stats.get("hooked", True):
            return stats | {"source": "hook"}
        ok: list[float] = []
        other: dict[str, int] = {}
        with self.log_path.open("rb") as log:
            log.seek(log_offset)
            for line in log.read(self._log_offset - log_offset).splitlines():
                if b'"agi.session.end"' not in line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                outcome = str(entry.get("outcome"))
                if outcome == "ok" and isinstance(entry.get("duration_ms"), int | float):
                    ok.append(entry["duration_ms"] / 1000)
                else:
                    other[outcome] = other.get(outcome, 0) + 1
        return {"ok": ok, "other": other, "source": "log"}

    def _hooked_sessions(self, timeout_s: float) -> dict[str, Any]:
        self.stats_path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout_s
        while not self.stats_path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the bench service did not write its AGI session times")
            time.sleep(0.05)
        return dict(json.loads(self.stats_path.read_text()))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


def bench_ports(base: int, rtp_ports: int) -> Ports:
    """A test stack's layout; with more than 1,000 RTP ports they move to base+4000 and up (a call
    through Asterisk holds two RTP ports per leg, and ports are not reused at once)."""
    ports = Ports.for_tests(base)
    if rtp_ports <= 1000:
        return ports
    return dataclasses.replace(ports, rtp_start=base + 4000, rtp_end=base + 4000 + rtp_ports - 1)


@dataclass
class BenchEnv:
    stack: Stack
    control: ControlProcess
    workdir: Path
    port_base: int
    profiled: frozenset[str] = frozenset()  # measurements (or parts) to profile with py-spy
    profiles: list[Path] = dataclasses.field(default_factory=list)

    @contextlib.contextmanager
    def profiling(self, name: str) -> Iterator[None]:
        """py-spy the service while the block runs, if `name` (or its measurement) is profiled."""
        if name not in self.profiled and name.split(":")[0] not in self.profiled:
            yield
            return
        from bench.profile import Profiler, summarise

        spy = Profiler(self.control.pid, self.workdir.parent / f"profile-{name.replace(':', '-')}.raw")
        try:
            yield
        finally:
            summary = spy.stop().with_suffix(".txt")
            summary.write_text(summarise(spy.out) + "\n")
            self.profiles.append(summary)

    @property
    def sip(self) -> tuple[str, int]:
        return ("127.0.0.1", self.stack.ports.sip)

    @property
    def agi_port(self) -> int:
        return self.stack.ports.agi

    def sipp_port(self, n: int) -> int:
        """SIPp signalling ports: base+2000 + 10n (media: +20 above it)."""
        return self.port_base + 2000 + 10 * n

    @property
    def trunk_port(self) -> int:
        return self.port_base + 90


def make_stack(name: str, base: int, rtp_ports: int) -> Stack:
    """The bench's stack, named after its ports too: the Asterisk root (and its instance
    directories) is shared by every checkout on the machine, so two benches on different ports
    must not share an instance."""
    ports = bench_ports(base, rtp_ports)
    return Stack(f"{name}{base}", ports, config=Settings.from_env(), fresh_database=True)


def start_asterisk(stack: Stack, bare_target: str, timeout_s: float = 60) -> float:
    """Start the bench's Asterisk; the seconds until it was fully booted."""
    base = stack.asterisk_instance()
    values = {f.name: getattr(base, f.name) for f in dataclasses.fields(base) if f.init}
    stack.asterisk = BenchAsterisk(**values, bare_target=bare_target)
    started = time.monotonic()
    stack.asterisk.start(timeout_s=timeout_s)
    return round(time.monotonic() - started, 1)
