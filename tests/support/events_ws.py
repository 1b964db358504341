"""A live-events WebSocket for e2e tests: an aiohttp client on a thread of its own that keeps
every JSON message it receives, so a synchronous test can wait for one (poll with a deadline)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.support.api import Api


class EventSocket:
    def __init__(self, api: Api) -> None:
        assert api.token
        self._url = api.base.replace("http://", "ws://", 1) + "/events"
        self._token = api.token
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> EventSocket:
        self._thread.start()
        self.wait_for("hello", lambda m: m.get("type") == "hello")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        headers = {"Authorization": f"Bearer {self._token}"}
        async with aiohttp.ClientSession() as session, session.ws_connect(self._url, headers=headers) as ws:
            reader = asyncio.ensure_future(self._read(ws))
            await self._stop.wait()
            reader.cancel()

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                with self._lock:
                    self.messages.append(json.loads(msg.data))

    def of_type(self, prefix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if str(m.get("type", "")).startswith(prefix)]

    def wait_for(
        self, what: str, match: Callable[[dict[str, Any]], bool], timeout_s: float = 15
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                found = [m for m in self.messages if match(m)]
            if found:
                return found[0]
            time.sleep(0.05)
        with self._lock:
            seen = [m.get("type") for m in self.messages]
        raise AssertionError(f"no {what} on the events socket within {timeout_s} s; got {seen}")
