"""CPU-heavy work (parsing an upload, bcrypt) off the event loop that also answers calls.

An `Offload` is a thread pool of its own, not the loop's default executor (which anything may
fill), so one kind of work can neither starve another nor take every core: at most `workers` run
at once. With `max_pending`, a caller beyond that many (running and waiting) is refused at once
with Unavailable (503) instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from pbx_control.kernel.errors import Unavailable

P = ParamSpec("P")
T = TypeVar("T")


class Offload:
    def __init__(
        self,
        name: str,
        *,
        workers: int,
        max_pending: int | None = None,
        busy_message: str = "too much work of this kind at once; try again shortly",
    ) -> None:
        self.name = name
        self.workers = workers
        self.max_pending = max_pending
        self._busy_message = busy_message
        self._executor: ThreadPoolExecutor | None = None
        self.pending = 0

    def _pool(self) -> ThreadPoolExecutor:
        # Made at first use: importing a module starts no thread.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix=self.name)
        return self._executor

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """fn(*args, **kwargs) on one of this pool's threads; Unavailable when it is full."""
        if self.max_pending is not None and self.pending >= self.max_pending:
            raise Unavailable(self._busy_message, code="busy")
        self.pending += 1
        try:
            call = functools.partial(fn, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._pool(), call)
        finally:
            self.pending -= 1
