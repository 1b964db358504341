"""kernel.offload: work runs on the executor's own threads, at most `workers` at a time; with
`max_pending`, a caller beyond it is refused at once (Unavailable) instead of queueing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from pbx_control.kernel.errors import Unavailable
from pbx_control.kernel.offload import Offload

pytestmark = [pytest.mark.unit, pytest.mark.faults]


async def test_runs_off_the_loop_thread_and_returns_the_result() -> None:
    pool = Offload("test-result", workers=1)
    loop_thread = threading.get_ident()
    thread, value = await pool.run(lambda x: (threading.get_ident(), x * 2), 21)
    assert value == 42 and thread != loop_thread


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
