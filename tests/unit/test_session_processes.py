"""The session-end check (tests/support/leftovers.py) sees what a test leaves running and fails.

Needs no service: it starts `sleep` and a small pytest run of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import leftovers

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def _find(cmdline: str, timeout_s: float = 5) -> list[leftovers.Proc]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = [p for p in leftovers.descendants() if p.cmdline == cmdline]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_a_daemon_started_by_the_session_stays_its_descendant_and_is_stopped() -> None:
    assert leftovers.SUBREAPER, "pytest could not become a child subreaper"
    # sh starts sleep in a session of its own and exits: orphaned, like pg_ctl's postmaster.
    subprocess.run(["sh", "-c", "setsid sleep 297 </dev/null >/dev/null 2>&1 &"], check=True)
    found = _find("sleep 297")
    assert [p.ppid for p in found] == [os.getpid()]
    leftovers.stop(found)
    assert not [p for p in leftovers.descendants() if p.cmdline == "sleep 297"]


LEAKY_TEST = """
import subprocess

def test_leaves_a_process_behind():
    subprocess.Popen(["sh", "-c", "setsid sleep 298 </dev/null >/dev/null 2>&1 &"]).wait()
"""


def test_a_session_that_leaves_a_process_running_fails_and_names_it(tmp_path: Path) -> None:
    (tmp_path / "test_leaky.py").write_text(LEAKY_TEST)
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.support.leftovers", "-p", "no:cacheprovider"]
    cmd += ["-q", "--rootdir", str(tmp_path), str(tmp_path / "test_leaky.py")]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == pytest.ExitCode.TESTS_FAILED, r.stdout + r.stderr
    assert "1 passed" in r.stdout
    assert "LEFTOVER PROCESSES" in r.stdout and "sleep 298" in r.stdout
    # ...and stopped it: had it not, the sleep would now be ours (we are its nearest subreaper).
    assert not _find("sleep 298", timeout_s=0.5)
