"""The open event sockets: a stop ends the handler's read with its reason, a real cancellation
still cancels, and one task re-checks every socket's token (a database that does not answer
closes nothing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import WSMsgType

from pbx_control.events import sockets as mod
from pbx_control.events.sockets import CLOSE_TOKEN_INVALID, CLOSE_TOO_SLOW, OpenSockets, Socket
from pbx_control.kernel.errors import Unavailable

pytestmark = pytest.mark.unit


class FakeWs:
    """Messages come when the test puts them; iterating ends like aiohttp's on a close."""

    def __init__(self) -> None:
        self.incoming: asyncio.Queue[Any] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Any]:
        while True:
            msg = await self.incoming.get()
            yield msg


class Msg:
    def __init__(self, kind: WSMsgType) -> None:
        self.type = kind


async def _handler(sockets: OpenSockets, token: str, ws: FakeWs, opened: list[Socket]) -> tuple[int, str]:
    socket = sockets.open(token)
    opened.append(socket)
    try:
        return await socket.serve(ws)  # type: ignore[arg-type]
    finally:
        sockets.close(socket)


async def _never(_token: str) -> Any:
    raise AssertionError("no token check expected")


async def test_the_client_closing_ends_it_and_messages_from_the_client_are_ignored() -> None:
    sockets, ws, opened = OpenSockets(_never), FakeWs(), list[Socket]()
    task = asyncio.create_task(_handler(sockets, "t", ws, opened))
    ws.incoming.put_nowait(Msg(WSMsgType.TEXT))
    ws.incoming.put_nowait(Msg(WSMsgType.CLOSE))
    assert await task == (1000, "closed by client")
    assert len(sockets) == 0
    await sockets.stop()


async def test_a_stop_ends_the_read_with_its_reason_and_the_first_reason_wins() -> None:
    sockets, ws, opened = OpenSockets(_never), FakeWs(), list[Socket]()
    task = asyncio.create_task(_handler(sockets, "t", ws, opened))
    await asyncio.sleep(0.01)
    opened[0].stop(CLOSE_TOO_SLOW, "too slow")
    opened[0].stop(CLOSE_TOKEN_INVALID, "token no longer valid")
    assert await task == (CLOSE_TOO_SLOW, "too slow")
    assert task.cancelling() == 0  # the handler can still await its close (asyncio.timeout)
    await sockets.stop()


async def test_a_stop_in_the_same_iteration_as_a_message_still_ends_it() -> None:
    sockets, ws, opened = OpenSockets(_never), FakeWs(), list[Socket]()
    task = asyncio.create_task(_handler(sockets, "t", ws, opened))
    await asyncio.sleep(0.01)
    ws.incoming.put_nowait(Msg(WSMsgType.TEXT))  # the read is done, the task not yet resumed
    opened[0].stop(CLOSE_TOO_SLOW, "too slow")
    assert await task == (CLOSE_TOO_SLOW, "too slow")


async def test_the_server_cancelling_the_handler_is_not_taken_for_a_stop() -> None:
    sockets, ws, opened = OpenSockets(_never), FakeWs(), list[Socket]()
    task = asyncio.create_task(_handler(sockets, "t", ws, opened))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(sockets) == 0
    await sockets.stop()


async def test_one_task_rechecks_the_tokens_and_closes_only_the_revoked_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mod, "RECHECK_TOKEN_S", 0.01)
    valid = {"good": object(), "flaky": object()}
    asked: list[str] = []
    database_down = True

    async def lookup(token: str) -> Any:
        asked.append(token)
        if token == "flaky" and database_down:
            raise Unavailable("database down")
        return valid.get(token)

    sockets = OpenSockets(lookup)
    opened: list[Socket] = []
    ws = [FakeWs() for _ in range(4)]
    tasks = [
        asyncio.create_task(_handler(sockets, token, w, opened))
        for token, w in zip(["good", "good", "flaky", "revoked"], ws, strict=True)
    ]
    revoked = await asyncio.wait_for(tasks[3], 5)
    assert revoked == (CLOSE_TOKEN_INVALID, "token no longer valid")
    await asyncio.sleep(0.05)  # more checks, the database still down for "flaky"
    assert not any(t.done() for t in tasks[:3])
    assert asked.count("good") >= 2 and asked.count("revoked") == 1
    first_check = asked[:3]
    assert sorted(first_check) == ["flaky", "good", "revoked"]  # one look-up per token, not socket

    del valid["flaky"]  # now it is revoked too, and the database answers
    database_down = False
    assert await asyncio.wait_for(tasks[2], 5) == (CLOSE_TOKEN_INVALID, "token no longer valid")
    for w in ws[:2]:
        w.incoming.put_nowait(Msg(WSMsgType.CLOSE))
    await asyncio.gather(*tasks[:2])
    await asyncio.sleep(0.05)
    assert sockets._checker is not None and sockets._checker.done()  # nothing open: it ended
    await sockets.stop()


async def test_a_failing_look_up_does_not_end_the_other_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mod, "RECHECK_TOKEN_S", 0.01)
    revoked: set[str] = set()

    async def lookup(token: str) -> Any:
        if token == "broken":
            raise RuntimeError("a bug in the look-up")
        return None if token in revoked else object()

    sockets, opened = OpenSockets(lookup), list[Socket]()
    ws = [FakeWs(), FakeWs()]
    broken = asyncio.create_task(_handler(sockets, "broken", ws[0], opened))
    later = asyncio.create_task(_handler(sockets, "later", ws[1], opened))
    await asyncio.sleep(0.05)  # several ticks with the failing look-up
    assert not broken.done() and not later.done()
    revoked.add("later")
    assert await asyncio.wait_for(later, 5) == (CLOSE_TOKEN_INVALID, "token no longer valid")
    ws[0].incoming.put_nowait(Msg(WSMsgType.CLOSE))
    await broken
    await sockets.stop()
