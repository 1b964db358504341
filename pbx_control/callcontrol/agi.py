"""The FastAGI handler `move_here`: *88 dialled on one of my devices takes my call from another of
my devices. It only sets variables (PBX_ROUTE move / move-none, PBX_MOVE_PEER, PBX_MOVE_OLD); the
dialplan ([pbx-move] take, extensions_callcontrol.conf) does the move (callcontrol/move.py).

Which call: the answered, not held call on another device of the same user that started last
(move.call_to_take). The device is the channel's own authenticated endpoint, never SIP data. In a
process without the live call model (no AMI bridge) there is nothing to take: move-none.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.ami.calls import CallModel
from pbx_control.callcontrol.move import call_to_take
from pbx_control.dialplan import contract as c
from pbx_control.dialplan.apply import apply_decision
from pbx_control.kernel import ids

Handler = Callable[[AgiSession], Awaitable[None]]
# The call to take for the given devices: [old channel's uniqueid, peer's uniqueid], or None. Asked
# of the live call model, here or (FastAGI in its own process) in the service's process.
Finder = Callable[[list[str]], Awaitable[list[str] | None]]
MOVE_QUERY = "move.call_to_take"

_MY_OTHER_DEVICES = """
SELECT other.sip_username
  FROM devices mine JOIN devices other ON other.user_id = mine.user_id AND other.id <> mine.id
 WHERE mine.sip_username = $1
"""


@dataclass(frozen=True)
class MoveHere:
    action: str  # move | move-none
    reason: str
    peer: str | None = None
    old: str | None = None

    def variables(self) -> dict[str, str]:
        return c.variables({c.ROUTE: self.action, c.MOVE_PEER: self.peer, c.MOVE_OLD: self.old})


def take_from(calls: CallModel, endpoints: list[str]) -> list[str] | None:
    found = call_to_take(calls, endpoints)
    return None if found is None else [found[0].uniqueid, found[1].uniqueid]


def make_move_handler(pool: asyncpg.Pool, find: Finder | None) -> Handler:
    async def move_here(session: AgiSession) -> None:
        endpoint = session.endpoint
        if find is None or endpoint is None or not ids.ENDPOINT.fullmatch(endpoint):
            await apply_decision(session, MoveHere("move-none", "no call model or no device"))
            return
        structlog.contextvars.bind_contextvars(endpoint=endpoint)
        others = [r["sip_username"] for r in await pool.fetch(_MY_OTHER_DEVICES, endpoint)]
        found = await find(others)
        # what comes back from the other process is checked like any other input
        if found is None or not all(ids.UNIQUEID.fullmatch(u) for u in found):
            await apply_decision(session, MoveHere("move-none", "no answered call on my other devices"))
            return
        old, peer = found
        await apply_decision(session, MoveHere("move", "taking my call", peer, old))

    return move_here
