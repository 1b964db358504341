"""The real stack for end-to-end tests: PostgreSQL, Asterisk (chroot), the control service as a
subprocess (so a test can stop it), and SIPp phones. Started once per session on test ports."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from pbx_control.config import Settings
from pbx_control.runtime.service_process import wait_healthy
from pbx_control.runtime.stack import Stack
from pbx_control.tenancy import trunks, users
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE, TEST_PORTS
from tests.support.sipp import LIVE_RUNS, Phone

ROOT = Path(__file__).resolve().parents[2]
CARRIER_IP = "127.0.0.2"
STRANGER_IP = "127.0.0.5"  # any other address, as the internet is
CARRIER_PORT = TEST_PORT_BASE + 90  # the carrier's UAS; its UAC uses CARRIER_PORT + 2
PLATFORM_USER = "platform-e2e"
PLATFORM_PASSWORD = "platform-e2e-password"
_phone_ports = itertools.count(TEST_PORT_BASE + 2000, 10)


class ControlProcess:
    """`python -m pbx_control serve` against the test stack. It runs in a session of its own, so
    freezing or killing "the service" reaches its FastAGI child process too (PBX_AGI_PROCESS=own)."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = {
            **os.environ,
            **env,
            "PBX_LOG_LEVEL": "info",
            "PBX_BCRYPT_ROUNDS": "4",
            # The suite's own phones (127.0.0.1) try wrong passwords on purpose in many tests; the
            # guard against guessing is proven from the other loopback addresses (test_sip_attacks).
            "PBX_SIP_GUARD_EXEMPT": "127.0.0.1/32",
        }
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = f"http://127.0.0.1:{env['PBX_API_PORT']}/api/v1"

    def start(self, timeout_s: float = 30) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pbx_control", "serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_healthy(self.proc, self.api, self.log_path, timeout_s)

    def freeze(self) -> None:
        """SIGSTOP: the listening sockets still accept connections, but nothing answers."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, sig: signal.Signals) -> None:
        """The service and its FastAGI child (one process group)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is closed in order, no goodbye to Asterisk."""
        assert self.proc is not None
        self._signal_all(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self._signal_all(signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@dataclass
class E2E:
    stack: Stack
    control: ControlProcess
    workdir: Path

    @property
    def sip(self) -> tuple[str, int]:
        return ("127.0.0.1", self.stack.ports.sip)

    def phone(self, username: str, password: str) -> Phone:
        return Phone(username, password, next(_phone_ports), server=self.sip, workdir=self.workdir)

    def carrier(self, port: int = CARRIER_PORT) -> Phone:
        """The carrier's side of the trunk: no registration, no auth, from 127.0.0.2."""
        return Phone(
            "carrier", "unused-password", port, server=self.sip, local_ip=CARRIER_IP, workdir=self.workdir
        )

    def stranger(self, username: str, password: str = "", ip: str = STRANGER_IP) -> Phone:
        """Someone on another address (not the carrier's, no registration), e.g. an attacker."""
        port = next(_phone_ports)
        return Phone(username, password or "none", port, server=self.sip, local_ip=ip, workdir=self.workdir)


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2E]:
    workdir = tmp_path_factory.mktemp("e2e")
    stack = Stack(
        f"test{TEST_PORT_BASE}",
        TEST_PORTS,
        config=Settings.from_env(),
        fresh_database=True,
        verbose=3,
    )
    control: ControlProcess | None = None
    try:  # whatever failed to start, what did start is stopped
        stack.start_database()

        async def bootstrap() -> None:
            conn = await asyncpg.connect(stack.database_url)
            try:
                os.environ.setdefault("PBX_BCRYPT_ROUNDS", "4")
                await users.create_platform_admin(conn, "Platform E2E", PLATFORM_USER, PLATFORM_PASSWORD)
                await trunks.create_trunk(conn, "carrier", CARRIER_IP, CARRIER_PORT, CARRIER_IP)
            finally:
                await conn.close()

        asyncio.run(bootstrap())
        stack.start_asterisk()
        control = ControlProcess(stack.service_env(), workdir / "control.log")
        control.start()
        yield E2E(stack, control, workdir)
    finally:
        try:
            if control is not None:
                control.stop()
        finally:
            stack.stop()


@pytest.fixture(scope="session")
def platform(e2e: E2E) -> Api:
    return Api(e2e.control.api).login(PLATFORM_USER, PLATFORM_PASSWORD)


@pytest.fixture(autouse=True)
def _kill_leftover_sipp() -> Iterator[None]:
    yield
    while LIVE_RUNS:
        LIVE_RUNS.pop().stop()
