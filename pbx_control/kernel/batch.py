"""Concurrent look-ups of the same kind share one query (no cache: every answer is read afresh).

When a thousand WebSocket clients connect at once, each connect reads its token and its view of
the organization from PostgreSQL; one query each would queue up behind the API pool's few
connections and be answered 503 once the pool's acquire timeout passes. A `BatchLookup` collects
the keys asked for while its previous query runs and asks for all of them in the next one
(`WHERE key = ANY($1)`), so a storm costs a few queries on one connection, and a single request
costs one loop iteration more than a query of its own.

Nothing is kept between queries: an answer is as fresh as a query of its own made at the moment
the request arrived or later (a revoked token is refused by the next query, as without batching).
A failed query fails every request of its batch with the same exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

FetchMany = Callable[[Sequence[K]], Awaitable[Mapping[K, V]]]


class BatchLookup(Generic[K, V]):
    """`await get(key)`: the value `fetch_many` gives for the key (None when it gives none)."""

    def __init__(self, fetch_many: FetchMany[K, V], *, max_batch: int = 500) -> None:
        self._fetch_many = fetch_many
        self._max_batch = max(1, max_batch)
        self._pending: dict[K, list[asyncio.Future[V | None]]] = {}
        self._task: asyncio.Task[None] | None = None
        self.queries = 0
        """Queries made (for tests and the curious)."""

    async def get(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(key, []).append(future)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # the rest of this loop iteration's requests join the batch
            keys = list(self._pending)[: self._max_batch]
            waiting = {k: self._pending.pop(k) for k in keys}
            self.queries += 1
            try:
                found = await self._fetch_many(keys)
            except BaseException as exc:
                for futures in waiting.values():
                    for f in futures:
                        if not f.done():
                            f.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for key, futures in waiting.items():
                value = found.get(key)
                for f in futures:
                    if not f.done():
                        f.set_result(value)
