"""The event WebSockets open in this process, and the two reasons the service closes one.

A socket's handler reads until the client closes (clients have nothing to say). The service closes
it when the client does not keep up (the hub's overflow callback: 4008) or when its token stopped
being valid (logout, expiry, password change: 4001). Both come from outside the handler: one task
for all sockets re-checks every open socket's token each RECHECK_TOKEN_S (the look-ups share
queries), and either reason stops the handler by cancelling its read. So a connected client costs
its handler's task and nothing more (three tasks per socket before: 3-4 MB at 1,000 clients).

The handler tells a stop from a real cancellation (the server shutting down) by the reason set
first; `stop` only cancels while the handler is in its read, where nothing else is awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from pbx_control.kernel.errors import Unavailable
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api.events")

RECHECK_TOKEN_S = 60.0
CLOSE_BY_CLIENT = 1000
CLOSE_TOKEN_INVALID = 4001
CLOSE_TOO_SLOW = 4008

TokenLookup = Callable[[str], Awaitable[Any]]


class Socket:
    """One open socket: its token, its handler's task, and why it was stopped (if it was)."""

    __slots__ = ("_reading", "code", "reason", "task", "token")

    def __init__(self, token: str, task: asyncio.Task[Any]) -> None:
        self.token = token
        self.task = task
        self.code: int | None = None
        self.reason = ""
        self._reading = False

    def stop(self, code: int, reason: str) -> None:
        """Close with `code` (the first reason wins); the handler's read ends at once."""
        if self.code is not None:
            return
        self.code, self.reason = code, reason
        if self._reading:
            self.task.cancel()

    async def serve(self, ws: web.WebSocketResponse) -> tuple[int, str]:
        """Read (and ignore) until the client closes or `stop`; the close code and reason."""
        if self.code is not None:
            return self.code, self.reason
        self._reading = True
        try:
            async for msg in ws:
                if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        except asyncio.CancelledError:
            if self.code is None:
                raise  # not ours: the server is stopping
            self.task.uncancel()
        finally:
            self._reading = False
        if self.code is not None:
            return self.code, self.reason
        return CLOSE_BY_CLIENT, "closed by client"


class OpenSockets:
    """Every open socket of this process; one task re-checks their tokens while any is open."""

    def __init__(self, lookup: TokenLookup) -> None:
        self._lookup = lookup
        self._open: dict[Socket, None] = {}
        self._checker: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._open)

    def open(self, token: str) -> Socket:
        """A socket for the calling handler's task (its token checked from now on)."""
        task = asyncio.current_task()
        assert task is not None, "open() from the socket's handler"
        socket = Socket(token, task)
        self._open[socket] = None
        if self._checker is None or self._checker.done():
            self._checker = asyncio.get_running_loop().create_task(self._check_tokens(), name="events-tokens")
        return socket

    def close(self, socket: Socket) -> None:
        self._open.pop(socket, None)

    async def stop(self) -> None:
        """At shutdown (the handlers end by themselves)."""
        task, self._checker = self._checker, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _check_tokens(self) -> None:
        while self._open:
            await asyncio.sleep(RECHECK_TOKEN_S)
            by_token: dict[str, list[Socket]] = {}
            for socket in self._open:
                by_token.setdefault(socket.token, []).append(socket)
            tokens = list(by_token)
            found = await asyncio.gather(*(self._lookup(t) for t in tokens), return_exceptions=True)
            failed = 0
            for token, principal in zip(tokens, found, strict=True):
                if isinstance(principal, BaseException):
                    # A database that does not answer (or a failed look-up) closes no socket, and
                    # must not end the checks of every other one: asked again at the next tick.
                    failed += 1
                    if not isinstance(principal, Unavailable):
                        log.error("events.token_check_error", error=repr(principal))
                elif principal is None:
                    for socket in by_token[token]:
                        socket.stop(CLOSE_TOKEN_INVALID, "token no longer valid")
            if failed:
                log.warning("events.token_check_failed", tokens=failed)
