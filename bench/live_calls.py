"""Hold/resume, announced transfer and click-to-call of api_latency, on the live calls of the blind
transfer measurement (bench/callcontrol.py: the same SIPp call load, every request its own call).

The goal (p99 <= 20 ms) is for the API's own work: each request's latency. What follows on the
phones is reported apart, from the organization's events WebSocket (the admin's, who sees all):
an announced transfer's start -> the recipient's leg ringing (routing, Dial and the phone's 180),
ringing -> transfer.answered (the phone answering), complete -> transfer.completed. Click-to-call
rings the callee's device (the SIPp UAS answers at once), which then dials TRANSFER_TO.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bench.pace import Pace, Turns
from bench.timing import OpTimes

EVENT_WAIT_S = 10.0


class Events:
    """The admin's events WebSocket: every message with the time it arrived."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, dict[str, Any]]] = []
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def start(self, http: aiohttp.ClientSession, api: str, headers: dict[str, str]) -> None:
        url = api.replace("http://", "ws://", 1) + "/events"
        ws = await http.ws_connect(url, headers=headers, max_msg_size=0)
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.TEXT:
                    self.seen.append((time.perf_counter(), json.loads(msg.data)))
                    self._changed.set()

    async def first(self, match: Any, after: float, timeout_s: float = EVENT_WAIT_S) -> float | None:
        """When the first message matching `match` after `after` arrived (None: not in time)."""
        deadline = time.perf_counter() + timeout_s
        checked = 0
        while True:
            for at, msg in self.seen[checked:]:
                if at >= after and match(msg):
                    return at
            checked = len(self.seen)
            left = deadline - time.perf_counter()
            if left <= 0:
                return None
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return None

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


class Timed(OpTimes):
    """Latencies of one kind of request (or wait), statuses, Server-Timing, failures."""

    async def request(
        self, http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any, float]:
        started = time.perf_counter()
        async with http.request(method, url, json=body, headers=headers) as resp:
            data = await resp.json() if resp.content_type == "application/json" else None
            status = resp.status
            timing = resp.headers.getall("Server-Timing", None)
        self.add(time.perf_counter() - started, status, timing)
        return status, data, started


async def _in_turn(ids: list[str], pace: Pace, work: Any) -> None:
    """`work(id, turns)` for every id, each client taking the next id at its next turn."""
    todo = list(ids)

    async def client(n: int) -> None:
        turns = pace.turns(n)
        while todo:
            await turns.next()
            if not todo:
                break
            await work(todo.pop(), turns)

    await asyncio.gather(*(client(n) for n in range(pace.clients)))


async def hold_resume(
    http: aiohttp.ClientSession, api: str, headers: dict[str, str], ids: list[str], pace: Pace
) -> dict[str, Any]:
    """Each call held at one turn of its client, resumed at the next."""
    hold, resume = Timed(), Timed()

    async def one(call: str, turns: Turns) -> None:
        await hold.request(http, "POST", f"{api}/calls/hold", headers, {"call": call})
        await turns.next()
        await resume.request(http, "POST", f"{api}/calls/resume", headers, {"call": call})

    await _in_turn(ids, pace, one)
    return {"hold": hold.figures(), "resume": resume.figures()}


async def announced(
    http: aiohttp.ClientSession,
    api: str,
    headers: dict[str, str],
    events: Events,
    ids: list[str],
    pace: Pace,
    to: str,
) -> dict[str, Any]:
    """Each transfer started at a turn of its client, completed as soon as the recipient answered."""
    start, complete = Timed(), Timed()
    ringing, answer_wait, completed = Timed(), Timed(), Timed()

    async def one(call: str, _turns: Turns) -> None:
        status, body, t0 = await start.request(
            http, "POST", f"{api}/calls/transfers", headers, {"call": call, "to": to}
        )
        if status != 201 or not isinstance(body, dict):
            return
        tid = body["id"]

        def recipient_rings(m: dict[str, Any]) -> bool:
            ch = m.get("channel") or {}
            return (
                m.get("type") == "channel.updated"
                and ch.get("dialed_by") == call
                and ch.get("state") in ("Ringing", "Up")
            )

        def of_transfer(kind: str) -> Any:
            return lambda m: m.get("type") == kind and (m.get("transfer") or {}).get("id") == tid

        rang = await events.first(recipient_rings, t0)
        ringing.wait(t0, rang)
        answered = await events.first(of_transfer("transfer.answered"), t0)
        answer_wait.wait(rang or t0, answered)
        if answered is None:
            return
        _, _, t1 = await complete.request(http, "POST", f"{api}/calls/transfers/{tid}/complete", headers, {})
        completed.wait(t1, await events.first(of_transfer("transfer.completed"), t1))

    await _in_turn(ids, pace, one)
    return {
        "start": start.figures(),
        "complete": complete.figures(),
        "phones": {
            "start_to_recipient_ringing": ringing.figures(),
            "ringing_to_answered": answer_wait.figures(),
            "complete_to_completed_event": completed.figures(),
        },
    }


async def click_to_call(
    http: aiohttp.ClientSession, api: str, headers: dict[str, str], count: int, pace: Pace, to: str
) -> dict[str, Any]:
    click = Timed()

    async def one(_: str, _turns: Turns) -> None:
        await click.request(http, "POST", f"{api}/calls", headers, {"to": to})

    await _in_turn([str(n) for n in range(count)], pace, one)
    return {"click": click.figures()}
