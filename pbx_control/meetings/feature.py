"""Meetings: rooms with a PIN on Asterisk ConfBridge. HTTP routes; the dial-in (`*80` from the
organization's phones, the outside dial-in number through the inbound route) with its FastAGI
handler `meeting_pin`; the dial-in's prompts, made when the service starts."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from aiohttp import web

from pbx_control.ami import AmiClient
from pbx_control.feature import AgiHandler, Feature, Runtime, Worker
from pbx_control.meetings import http, http_live
from pbx_control.meetings.agi import MeetingPrompts, make_pin_handler
from pbx_control.meetings.live import LiveMeetings
from pbx_control.meetings.pins import PinThrottle
from pbx_control.meetings.targets import dial_in_target


class PromptMaker:
    """Makes the dial-in's prompts in the background (espeak-ng and sox, never on a call's path)."""

    def __init__(self, prompts: MeetingPrompts) -> None:
        self.prompts = prompts
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self.prompts.make())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    return {"meeting_pin": make_pin_handler(rt.call_pool, PinThrottle(rt.clock), rt.clock)}


def _workers(rt: Runtime) -> list[Worker]:
    return [PromptMaker(MeetingPrompts(rt.settings.prompts))]


def _live(rt: Runtime) -> LiveMeetings:
    """The one live view of the rooms of this runtime (the API reads what the AMI hook feeds)."""
    found = vars(rt).get("meetings_live")
    if not isinstance(found, LiveMeetings):
        found = LiveMeetings(rt.pool, rt.events, rt.clock)
        vars(rt)["meetings_live"] = found
    return found


def _ami(rt: Runtime, ami: AmiClient) -> None:
    _live(rt).install(ami)


def _app(app: web.Application, rt: Runtime) -> None:
    app[http_live.LIVE] = _live(rt) if rt.ami is not None else None


FEATURE = Feature(
    name="meetings",
    routes=(http.routes, http_live.routes),
    dialplan="extensions_meetings.conf",
    agi=_agi,
    targets=lambda rt, targets: targets.numbers.append(dial_in_target(rt.call_pool)),
    workers=_workers,
    ami=_ami,
    app=_app,
)
