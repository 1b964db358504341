"""CPU-heavy work (parsing an upload, bcrypt) off the event loop that also answers calls.

Both kinds run at most `workers` at once, apart from the loop's default executor (which anything
may fill), so one kind of work can neither starve another nor take every core. With
`max_pending`, a caller beyond that many (running and waiting) is refused at once with
Unavailable (503) instead of queueing without bound.

- `Offload`: a thread pool, for work that releases the GIL (bcrypt).
- `ProcessOffload`: a fresh Python process per call, for pure-Python work (parsing a file): on a
  thread it would still compete with the loop for the GIL, and its garbage collections (a few
  hundred thousand objects for a large file) stop the loop too. The process gets bytes on stdin,
  runs a module-level function on them and sends back the pickled result; it is killed after
  `timeout_s`, and nothing is left running between calls.
- `run_program`: an external program (sox, espeak-ng) with its arguments as a list (never a
  shell), bounded in time and killed when it overruns or its caller goes away.

Both start their process with Python's subprocess (vfork then exec: the service is not copied) on
a thread of their own, and wait for it there. uvloop's own subprocess start forks: it stops the
event loop for the copy of the service's page tables (4 to 8 ms from 160 MB, measured) and, until
the exec, the child counts the service's memory a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from pbx_control.kernel import entry
from pbx_control.kernel.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")


class _Bounded:
    def __init__(self, name: str, workers: int, max_pending: int | None, busy_message: str) -> None:
        self.name = name
        self.workers = workers
        self.max_pending = max_pending
        self._busy_message = busy_message
        self.pending = 0

    def _admit(self) -> None:
        if self.max_pending is not None and self.pending >= self.max_pending:
            raise Unavailable(self._busy_message, code="busy")


class Offload(_Bounded):
    def __init__(
        self,
        name: str,
        *,
        workers: int,
        max_pending: int | None = None,
        busy_message: str = "too much work of this kind at once; try again shortly",
    ) -> None:
        super().__init__(name, workers, max_pending, busy_message)
        self._executor: ThreadPoolExecutor | None = None

    def _pool(self) -> ThreadPoolExecutor:
        # Made at first use: importing a module starts no thread.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        return self._executor

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(*args, **kwargs) on one of this pool's threads; Unavailable when it is full."""
        self._admit()
        self.pending += 1
        try:
            call = functools.partial(fn, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._pool(), call)
        finally:
            self.pending -= 1


class ProcessOffload(_Bounded):
    def __init__(
        self,
        name: str,
        *,
        workers: int,
        max_pending: int | None = None,
        timeout_s: float = 60.0,
        busy_message: str = "too much work of this kind at once; try again shortly",
    ) -> None:
        super().__init__(name, workers, max_pending, busy_message)
        self.timeout_s = timeout_s
        self._slots: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        # One per event loop (a semaphore belongs to the loop it first waited in).
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots[0] is not loop:
            self._slots = (loop, asyncio.Semaphore(self.workers))
        return self._slots[1]

    async def run(self, fn: Callable[[bytes], T], data: bytes) -> T:
        """fn(data) in a process of its own; fn's exceptions are raised here. Unavailable when the
        pool is full, the process fails or it takes longer than timeout_s."""
        target = f"{fn.__module__}:{fn.__qualname__}"
        if "." in fn.__qualname__ or fn.__module__ == "__main__":
            raise TypeError(f"{target} is not a module-level function")
        self._admit()
        self.pending += 1
        try:
            async with self._semaphore():
                return await self._run(target, data)  # type: ignore[no-any-return]
        finally:
            self.pending -= 1

    async def _run(self, target: str, data: bytes) -> Any:
        code, out, err = await _run_child(
            (*entry.command(__name__), target), data, self.timeout_s, capture_stdout=True
        )
        if code is None:
            raise Unavailable(f"{self.name} took too long; try again later", code="busy")
        if code != 0:
            detail = err.decode(errors="replace")[-500:]
            raise Unavailable(f"{self.name} failed; try again shortly", code="busy") from RuntimeError(detail)
        # Trusted: written by our own child below, never by a client.
        ok, value = pickle.loads(out)  # noqa: S301
        if not ok:
            raise value
        return value


# The threads that start children and wait for them (each blocked in a pipe read or waitpid).
_CHILDREN = Offload("child", workers=16)


class _Child:
    """One program run on a `_CHILDREN` thread; `kill` (from the event loop) ends it wherever it
    is: not started yet (it never starts), or running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._killed = False

    def run(
        self, argv: list[str], data: bytes | None, timeout_s: float, capture_stdout: bool
    ) -> tuple[int | None, bytes, bytes]:
        with self._lock:
            if self._killed:
                return None, b"", b""
            proc = self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        try:
            out, err = proc.communicate(data, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return None, b"", b""
        return (None if self._killed else proc.returncode), out or b"", err or b""

    def kill(self) -> None:
        with self._lock:
            self._killed = True
            if self._proc is not None and self._proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()


async def _run_child(
    argv: Sequence[str], data: bytes | None, timeout_s: float, *, capture_stdout: bool
) -> tuple[int | None, bytes, bytes]:
    """argv run to its end: (exit code, stdout, stderr); exit code None when it took longer than
    timeout_s (it is killed then). It is killed, too, when the caller goes away."""
    child = _Child()
    try:
        return await _CHILDREN.run(child.run, list(argv), data, timeout_s, capture_stdout)
    except asyncio.CancelledError:
        child.kill()  # its thread reaps it
        raise


async def run_program(*cmd: str, timeout_s: float, nice: int = 0) -> tuple[int | None, str]:
    """Run `cmd` (no stdin, stdout discarded): its exit code and stderr, or (None, "timed out")
    after `timeout_s`. The process never outlives the call. nice > 0: at that lower CPU priority
    (background work such as a bulk of default greetings yields the cores to calls and requests)."""
    argv = ("nice", "-n", str(nice), *cmd) if nice > 0 else cmd
    code, _out, err = await _run_child(argv, None, timeout_s, capture_stdout=False)
    if code is None:
        return None, "timed out"
    return code, err.decode(errors="replace")


def _child(target: str) -> None:
    module, _, name = target.partition(":")
    fn = getattr(importlib.import_module(module), name)
    data = sys.stdin.buffer.read()
    try:
        result: tuple[bool, Any] = (True, fn(data))
    except Exception as exc:
        result = (False, exc)
    try:
        out = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an exception (or result) that does not pickle
        out = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    _child(sys.argv[1])
