"""bcrypt runs in a small executor of its own: a burst of logins neither fills the event loop's
default executor (which other work uses) nor runs on more threads than its bound."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import bcrypt
import pytest

from pbx_control.auth import passwords

pytestmark = [pytest.mark.unit, pytest.mark.api, pytest.mark.faults]


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


@pytest.fixture(autouse=True)
def _cheap_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBX_BCRYPT_ROUNDS", "4")
    passwords.rounds.cache_clear()


async def test_hashing_and_checking_leave_the_default_executor_alone() -> None:
    default = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(default)
    stored = await passwords.hash_password("correct horse")
    checks = await asyncio.gather(*(passwords.verify_password("correct horse", stored) for _ in range(8)))
    assert await passwords.verify_password("wrong", stored) is False
    assert await passwords.verify_password("anything", None) is False
    assert all(checks)
    assert default.submitted == 0


async def test_a_burst_of_logins_runs_on_at_most_the_bound_of_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lock = threading.Lock()
    running = most = 0
    real = bcrypt.checkpw

    def slow_checkpw(password: bytes, hashed: bytes) -> bool:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.02)  # long enough for the burst to overlap
            return real(password, hashed)
        finally:
            with lock:
                running -= 1

    stored = passwords.hash_password_sync("correct horse")
    monkeypatch.setattr(bcrypt, "checkpw", slow_checkpw)
    results = await asyncio.gather(*(passwords.verify_password("correct horse", stored) for _ in range(12)))
    assert all(results)
    print(f"\n12 logins at once ran on at most {most} thread(s); the bound is {passwords.HASHING.workers}")
    assert most <= passwords.HASHING.workers
