"""`make run` as a new user meets it: the foreground stack starts, prints the API address and the
demo users' credentials, a call between two demo users rings and is answered, Ctrl-C stops
everything, and a second start reuses what the first one made.

Runs `python -m pbx_control stack` (what `make run` runs after setup) beside the standard ports
(PBX_RUN_PORT_BASE), with a state of its own wiped first, so a developer's `make run` is untouched.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import pytest

from pbx_control.config import Settings
from pbx_control.runtime.stack import Ports
from tests.support.api import Api
from tests.support.leftovers import interrupt
from tests.support.ports import TEST_PORT_BASE
from tests.support.sipp import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.stack]

ROOT = Path(__file__).resolve().parents[2]
RUN_BASE = TEST_PORT_BASE + 3000
PORTS = Ports.for_tests(RUN_BASE)
NAME = f"run{RUN_BASE}"
_USER = re.compile(r"^\s+(\d{2,8})\s+(.+?)\s+API login (\S+) / (\S+)\s+\((\w+)")
_SIP = re.compile(r"^\s+SIP (\w+)\s+user (\S+)\s+password (\S+)")


class DemoUser(TypedDict):
    name: str
    login: str
    password: str
    role: str
    devices: list[tuple[str, str]]  # SIP username, password


@dataclass
class Banner:
    webapp: str = ""
    api: str = ""
    sip: str = ""
    users: dict[str, DemoUser] = field(default_factory=dict)  # by extension


class RunningStack:
    def __init__(self, log_path: Path) -> None:
        env = {**os.environ, "PBX_RUN_PORT_BASE": str(RUN_BASE), "PBX_BCRYPT_ROUNDS": "4"}
        self.log = log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pbx_control", "stack"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,  # as in a terminal: Ctrl-C reaches the stack's own group
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put("<eof>")

    def read_until(self, pattern: str, timeout_s: float = 90) -> list[str]:
        seen: list[str] = []
        while True:
            line = self.lines.get(timeout=timeout_s)
            if line == "<eof>":
                code = self.proc.wait(timeout=30)
                self.log.flush()
                stderr = Path(self.log.name).read_text(errors="replace")[-4000:]
                raise AssertionError(
                    f"stack exited ({code}) before {pattern!r}: {seen}\nits stderr:\n{stderr}"
                )
            seen.append(line)
            if re.search(pattern, line):
                return seen

    def banner(self) -> Banner:
        lines = self.read_until(r"platform admin: API login")
        out = Banner()
        current: DemoUser | None = None
        for line in lines:
            if "Web app" in line:
                out.webapp = line.split()[2]
            elif "HTTP API" in line:
                out.api = line.split()[2]
            elif "SIP (UDP)" in line:
                out.sip = line.split()[2]
            elif m := _USER.match(line):
                current = {"name": m[2], "login": m[3], "password": m[4], "role": m[5], "devices": []}
                out.users[m[1]] = current
            elif (m := _SIP.match(line)) and current is not None:
                current["devices"].append((m[2], m[3]))
        return out

    def interrupt(self) -> tuple[int, list[str]]:
        self.proc.send_signal(signal.SIGINT)
        rest = self.read_until(r"^stopped\.$", timeout_s=60)
        code = self.proc.wait(timeout=30)
        self.log.close()
        return code, rest

    def kill(self) -> None:
        """After a failure: Ctrl-C (the stack stops its PostgreSQL and Asterisk), SIGKILL as a last resort."""
        interrupt(self.proc, grace_s=60)
        self.log.close()


def _wipe_state() -> None:
    state_dir = Settings.from_env().state_dir
    shutil.rmtree(state_dir / f"pg-{NAME}", ignore_errors=True)
    for leftover in (f"pg-{NAME}.password", f"{NAME}-demo-credentials.json", f"{NAME}-ami.secret"):
        (state_dir / leftover).unlink(missing_ok=True)


def test_make_run_starts_the_pbx_and_demo_users_can_call_each_other(tmp_path: Path) -> None:
    _wipe_state()
    stack = RunningStack(tmp_path / "run.log")
    try:
        banner = stack.banner()
        assert banner.api == f"http://127.0.0.1:{PORTS.api}/api/v1"
        assert banner.sip == f"127.0.0.1:{PORTS.sip}"
        assert banner.webapp == f"http://127.0.0.1:{PORTS.api}/"
        with urllib.request.urlopen(banner.webapp) as page:  # noqa: S310 (the stack on loopback)
            assert page.status == 200 and '<main id="app">' in page.read().decode()
        assert {"1001", "1002", "1003"} <= set(banner.users)

        anna, bo = banner.users["1001"], banner.users["1002"]
        me = Api(banner.api).login(anna["login"], anna["password"]).request("GET", "/users/me")
        assert me["extension"] == "1001"

        server = ("127.0.0.1", PORTS.sip)
        callee = Phone(*anna["devices"][0], RUN_BASE + 900, server=server, workdir=tmp_path)
        caller = Phone(*bo["devices"][0], RUN_BASE + 910, server=server, workdir=tmp_path)
        assert callee.register().returncode == 0
        assert caller.register().returncode == 0
        answering = callee.answer()
        call = caller.call("1001")
        assert call.returncode == 0, call.explain()
        assert answering.wait(30) == 0, answering.explain()
        assert call.received("SIP/2.0 180"), "the callee's phone never rang"

        code, tail = stack.interrupt()
        assert code == 0
        assert "stopping ..." in tail
    finally:
        stack.kill()

    again = RunningStack(tmp_path / "run-again.log")
    try:
        second = again.banner()
        assert second.users == banner.users, "a second `make run` must reuse the demo it made"
        code, _ = again.interrupt()
        assert code == 0
    finally:
        again.kill()
