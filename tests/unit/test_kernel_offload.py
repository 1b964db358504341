"""kernel.offload: work runs on threads of its own (Offload) or in a process of its own per call
(ProcessOffload), at most `workers` at a time; with `max_pending`, a caller beyond it is refused at
once (Unavailable) instead of queueing; a process that takes too long is killed."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from pbx_control.kernel.errors import Unavailable
from pbx_control.kernel.loop import run_main
from pbx_control.kernel.offload import Offload, ProcessOffload, run_program

pytestmark = [pytest.mark.unit, pytest.mark.faults]


async def test_runs_off_the_loop_thread_and_returns_the_result() -> None:
    pool = Offload("test-result", workers=1)
    loop_thread = threading.get_ident()
    thread, value = await pool.run(lambda x: (threading.get_ident(), x * 2), 21)
    assert value == 42 and thread != loop_thread


def pid_and_size(data: bytes) -> tuple[int, int]:
    return os.getpid(), len(data)


def refuse(data: bytes) -> None:
    raise ValueError(f"bad file of {len(data)} bytes")


def hang(data: bytes) -> None:
    time.sleep(60)


async def test_a_process_per_call_gets_the_bytes_and_returns_the_result() -> None:
    pool = ProcessOffload("test-processes", workers=1)
    first, size = await pool.run(pid_and_size, b"x" * 100_000)
    second, _ = await pool.run(pid_and_size, b"")
    assert size == 100_000
    assert os.getpid() not in (first, second) and first != second  # a fresh process each time
    with pytest.raises(ValueError, match="bad file of 3 bytes"):
        await pool.run(refuse, b"abc")


async def test_a_process_that_takes_too_long_is_killed() -> None:
    pool = ProcessOffload("test-slow", workers=1, timeout_s=0.5)
    with pytest.raises(Unavailable, match="took too long") as refused:
        await pool.run(hang, b"")
    assert refused.value.code == "busy"
    assert pool.pending == 0
    pool.timeout_s = 60  # room for a process to start on a busy machine
    assert (await pool.run(pid_and_size, b"ok"))[1] == 2  # and the next call works


async def test_exceptions_reach_the_caller() -> None:
    def fail() -> None:
        raise ValueError("bad file")

    with pytest.raises(ValueError, match="bad file"):
        await Offload("test-error", workers=1).run(fail)


async def test_at_most_workers_at_once_and_the_rest_refused_beyond_max_pending() -> None:
    pool = Offload("test-bound", workers=2, max_pending=3, busy_message="busy importing")
    release = threading.Event()
    lock = threading.Lock()
    running = most = 0

    def work() -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1
        return 1

    tasks = [asyncio.create_task(pool.run(work)) for _ in range(3)]
    await asyncio.sleep(0.05)
    assert pool.pending == 3
    with pytest.raises(Unavailable, match="busy importing") as refused:
        await pool.run(work)
    assert refused.value.code == "busy"
    release.set()
    assert await asyncio.gather(*tasks) == [1, 1, 1]
    assert most == 2 and pool.pending == 0
    assert await pool.run(work) == 1  # room again


async def test_a_program_runs_at_the_priority_asked_for() -> None:
    base = os.nice(0)
    # `nice` without arguments prints the niceness it runs at; stderr is what run_program returns.
    code, err = await run_program("sh", "-c", "nice >&2", timeout_s=5, nice=19)
    assert (code, int(err)) == (0, min(19, base + 19))
    code, err = await run_program("sh", "-c", "nice >&2", timeout_s=5)
    assert (code, int(err)) == (0, base)


def _gone(pid: int, within_s: float = 5.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


async def test_a_program_that_overruns_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code, err = await run_program("sh", "-c", f"echo $$ > {pid_file}; exec sleep 30", timeout_s=0.5)
    assert (code, err) == (None, "timed out")
    assert _gone(int(pid_file.read_text()))


async def test_a_program_whose_caller_goes_away_is_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    task = asyncio.create_task(run_program("sh", "-c", f"echo $$ > {pid_file}; exec sleep 30", timeout_s=60))
    for _ in range(250):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _gone(int(pid_file.read_text()))


_FORKED_INTO: Path | None = None


def _mark_fork() -> None:
    if _FORKED_INTO is not None:
        with _FORKED_INTO.open("a") as f:
            f.write("forked\n")


os.register_at_fork(after_in_child=_mark_fork)


def test_programs_and_processes_start_without_a_copy_of_the_service(tmp_path: Path) -> None:
    """On the service's loop (uvloop, whose own subprocess start forks: it stops the loop to copy
    the process and counts its memory twice until the exec), a program and an offloaded process
    start by vfork: no fork handler runs. The check itself: os.fork() is seen."""
    global _FORKED_INTO
    _FORKED_INTO = tmp_path / "forks"

    async def main() -> tuple[tuple[int | None, str], int]:
        ran = await run_program("true", timeout_s=5)
        _pid, size = await ProcessOffload("t", workers=1, timeout_s=30).run(pid_and_size, b"ab")
        return ran, size

    try:
        assert run_main(main(), "uvloop") == ((0, ""), 2)
        assert not _FORKED_INTO.exists()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        assert _FORKED_INTO.read_text() == "forked\n"
    finally:
        _FORKED_INTO = None
