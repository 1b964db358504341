"""A pytest plugin: the session stops every process it started, and fails loudly if one is left.

At start the pytest process makes itself a child subreaper (Linux prctl), so a daemon started by a
test (pg_ctl's postmaster, Asterisk, whatever a killed child leaves behind) is re-parented to
pytest instead of init and stays its descendant. At the end, after every fixture is torn down, any
descendant still running (and any pid file registered with `expect_gone` still present) fails the
session: it is named, then stopped, so the next run starts clean.

Loaded by tests/conftest.py; `python -m pytest -p tests.support.leftovers` loads it alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

_PR_SET_CHILD_SUBREAPER = 36
_expected_gone: list[tuple[Path, str]] = []
SUBREAPER = False  # set at configure: whether orphans of the session are re-parented to it


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    state: str  # as in /proc/<pid>/stat: R, S, D, Z (zombie), ...
    cmdline: str


def become_subreaper() -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _read(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone meanwhile
        return None
    # The command name may hold spaces and parentheses: the fields after it follow the last ')'.
    state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
    cmdline = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return Proc(pid, int(ppid), state, cmdline or stat[stat.index("(") : stat.rindex(")") + 1])


def descendants(root: int | None = None, *, zombies: bool = False) -> list[Proc]:
    """Every descendant of `root` (default: this process), parents before children."""
    procs = [p for p in (_read(int(d)) for d in os.listdir("/proc") if d.isdigit()) if p is not None]
    children: dict[int, list[Proc]] = {}
    for p in procs:
        children.setdefault(p.ppid, []).append(p)
    found: list[Proc] = []
    todo = [os.getpid() if root is None else root]
    while todo:
        for child in children.get(todo.pop(0), []):
            found.append(child)
            todo.append(child.pid)
    return found if zombies else [p for p in found if p.state != "Z"]


def reap_zombies() -> None:
    """Collect the exit status of finished children nobody waits for (re-parented orphans)."""
    for p in descendants(zombies=True):
        if p.state == "Z" and p.ppid == os.getpid():
            with contextlib.suppress(ChildProcessError):
                os.waitpid(p.pid, os.WNOHANG)


def stop(procs: list[Proc], grace_s: float = 10) -> None:
    """SIGTERM, then SIGKILL whatever still runs after `grace_s`."""
    pids = {p.pid for p in procs}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace_s
        while pids and time.monotonic() < deadline:
            for pid in list(pids):
                with contextlib.suppress(ChildProcessError):  # not our child: its parent reaps it
                    os.waitpid(pid, os.WNOHANG)
                p = _read(pid)
                if p is None or p.state == "Z":
                    pids.discard(pid)
            time.sleep(0.05)
        if not pids:
            return


def interrupt(proc: subprocess.Popen[str] | subprocess.Popen[bytes], grace_s: float = 45) -> None:
    """Stop a child that cleans up after itself on Ctrl-C (`make run`, the bench): SIGINT, and
    SIGKILL only if it has not exited within `grace_s`."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def expect_gone(pid_file: Path, what: str) -> None:
    """Fail the session if `pid_file` still exists at its end (e.g. a cluster's postmaster.pid)."""
    _expected_gone.append((pid_file, what))


def pytest_configure(config: pytest.Config) -> None:
    global SUBREAPER
    SUBREAPER = become_subreaper()


@pytest.hookimpl(trylast=True)  # after the runner's own sessionfinish has torn the fixtures down
def pytest_sessionfinish(session: pytest.Session) -> None:
    reap_zombies()
    left = descendants()
    files = [(path, what) for path, what in _expected_gone if path.exists()]
    if not left and not files:
        return
    lines = ["the test session left processes running (they are stopped now):"]
    lines += [f"  pid {p.pid} (parent {p.ppid}): {p.cmdline}" for p in left]
    lines += [f"  {what}: {path} still exists" for path, what in files]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("=", "LEFTOVER PROCESSES", red=True, bold=True)
        for line in lines:
            reporter.write_line(line, red=True)
    else:
        print("\n".join(lines))
    stop(left)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
