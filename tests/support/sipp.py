"""SIPp as phones and as the carrier: each Phone is a SIP account on its own port."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import sipp_scenarios

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
_run_ids = itertools.count()
# Every SIPp started, so a test fixture can kill what a failed test left running.
LIVE_RUNS: list[SippRun] = []


@dataclass
class SippRun:
    """One SIPp process and what it saw."""

    name: str
    proc: subprocess.Popen[bytes]
    message_file: Path
    error_file: Path
    log_file: Path

    def wait(self, timeout_s: float = 30) -> int:
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    @property
    def messages(self) -> str:
        return self.message_file.read_text(errors="replace") if self.message_file.exists() else ""

    def _messages(self, direction: str) -> list[str]:
        """Messages logged by -trace_msg in one direction ("received" or "sent")."""
        out = []
        for block in re.split(r"^-{20,} .*$", self.messages, flags=re.MULTILINE)[1:]:
            lines = block.strip("\n").split("\n")
            if not lines or f"message {direction}" not in lines[0]:
                continue
            out.append("\n".join(lines[1:]).strip("\n"))
        return out

    def received(self, start: str) -> list[str]:
        """Received SIP messages whose first line starts with `start` (e.g. "INVITE", "SIP/2.0 404")."""
        return [m for m in self._messages("received") if m.startswith(start)]

    def sent(self, start: str) -> list[str]:
        return [m for m in self._messages("sent") if m.startswith(start)]

    def explain(self) -> str:
        err = self.error_file.read_text(errors="replace") if self.error_file.exists() else ""
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        return (
            f"sipp {self.name} rc={self.returncode}\nerrors:\n{err[-3000:]}\nlog:\n{log[-2000:]}"
            f"\nmessages:\n{self.messages[-4000:]}"
        )


def header(message: str, name: str) -> str | None:
    m = re.search(rf"^{re.escape(name)}:\s*(.*)$", message, re.IGNORECASE | re.MULTILINE)
    return m.group(1).strip() if m else None


@dataclass
class Phone:
    """A SIP account played by SIPp: register, answer, ring, call."""

    username: str
    password: str
    port: int
    server: tuple[str, int] = ("127.0.0.1", 5060)
    local_ip: str = "127.0.0.1"
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="sipp-")))

    def _start(
        self,
        scenario_xml: str | bytes,
        kind: str,
        *,
        remote: bool,
        calls: int = 1,
        timeout_s: float = 20,
        service: str | None = None,
    ) -> SippRun:
        run_id = next(_run_ids)
        name = f"{self.username}-{kind}-{run_id}"
        scen = self.workdir / f"{name}.xml"
        # bytes: sent exactly as given (odd bytes in a header, for attacks)
        if isinstance(scenario_xml, bytes):
            scen.write_bytes(scenario_xml)
        else:
            scen.write_text(scenario_xml)
        msg = self.workdir / f"{name}.messages.log"
        err = self.workdir / f"{name}.errors.log"
        log = self.workdir / f"{name}.out.log"
        cmd = [SIPP]
        if remote:
            cmd.append(f"{self.server[0]}:{self.server[1]}")
        if calls > 1:  # all of them at once if need be (SIPp's own default stops at 3 x its rate: 30)
            cmd += ["-l", str(calls)]
        cmd += [
            "-sf",
            str(scen),
            "-i",
            self.local_ip,
            "-p",
            str(self.port),
            "-mp",
            str(self.port + 10000),
            "-m",
            str(calls),
            "-s",
            service or self.username,
            "-au",
            self.username,
            "-ap",
            self.password,
            "-nostdin",
            "-trace_msg",
            "-message_file",
            str(msg),
            "-trace_err",
            "-error_file",
            str(err),
            "-timeout",
            f"{int(timeout_s)}s",
            "-timeout_error",
            "-recv_timeout",
            f"{int(timeout_s * 1000)}",
            "-nd",
            "-default_behaviors",
            "all,-bye",
        ]
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        run = SippRun(name, proc, msg, err, log)
        LIVE_RUNS.append(run)
        return run

    def register(self, timeout_s: float = 10) -> SippRun:
        run = self._start(sipp_scenarios.register(), "register", remote=True, timeout_s=timeout_s)
        rc = run.wait(timeout_s + 5)
        assert rc == 0, run.explain()
        return run

    def register_expect_failure(self, timeout_s: float = 5) -> SippRun:
        run = self._start(sipp_scenarios.register(), "register", remote=True, timeout_s=timeout_s)
        run.wait(timeout_s + 5)
        return run

    def answer(self, *, answer_after_ms: int = 200, calls: int = 1, timeout_s: float = 20) -> SippRun:
        return self._start(
            sipp_scenarios.answer(answer_after_ms), "answer", remote=False, calls=calls, timeout_s=timeout_s
        )

    def answer_then_refer(self, target: str, *, refer_after_ms: int = 1000, timeout_s: float = 20) -> SippRun:
        """Answer, then blind-transfer the caller to `target` by a REFER from this phone."""
        xml = sipp_scenarios.answer_then_refer(target, f"{self.server[0]}:{self.server[1]}", refer_after_ms)
        return self._start(xml, "refer", remote=False, timeout_s=timeout_s)

    def busy(self, *, timeout_s: float = 20) -> SippRun:
        return self._start(sipp_scenarios.busy_here(), "busy", remote=False, timeout_s=timeout_s)

    def ring(self, *, timeout_s: float = 20) -> SippRun:
        return self._start(sipp_scenarios.ring_only(), "ring", remote=False, timeout_s=timeout_s)

    def call(
        self,
        number: str,
        *,
        expect: int = 200,
        hold_ms: int = 500,
        auth: bool = True,
        from_user: str | None = None,
        timeout_s: float = 20,
        wait: bool = True,
        media_port: int | None = None,
        remote_may_hang_up: bool = False,
        calls: int = 1,
    ) -> SippRun:
        """Place `calls` calls (several: at SIPp's default 10 per second, each held hold_ms)."""
        xml = sipp_scenarios.call(
            number,
            expect=expect,
            hold_ms=hold_ms,
            auth=auth,
            from_user=from_user or "[service]",
            media_port=media_port,
            remote_may_hang_up=remote_may_hang_up,
        )
        run = self._start(xml, "call", remote=True, calls=calls, timeout_s=timeout_s)
        if wait:
            run.wait(timeout_s + 10)
        return run

    def start(self, scenario: str | bytes, *, timeout_s: float = 20) -> SippRun:
        """Play a scenario of one's own as a client, without waiting for it (several at once)."""
        return self._start(scenario, "run", remote=True, timeout_s=timeout_s)

    def run(self, scenario: str | bytes, *, timeout_s: float = 20) -> SippRun:
        """Play a scenario of one's own against the server, as a client, and wait for it to end."""
        run = self._start(scenario, "run", remote=True, timeout_s=timeout_s)
        run.wait(timeout_s + 10)
        return run
