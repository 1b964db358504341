"""Meetings: rooms with a PIN on Asterisk ConfBridge, and ad-hoc conferences (a call with more
people added, a multi-party call) on the same rooms. HTTP routes; the dial-in (`*80` from the
organization's phones, the outside dial-in number through the inbound route) with its FastAGI
handler `meeting_pin` (call_path.py); the dial-in's prompts, made when the service starts."""

from __future__ import annotations

import asyncio

from aiohttp import web

from pbx_control.ami import AmiClient
from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.meetings import http, http_conferences, http_live
from pbx_control.meetings.agi import MeetingPrompts
from pbx_control.meetings.conferences import Conferences
from pbx_control.meetings.live import LiveMeetings


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


class ConferenceWorker:
    """Ends the conferences' background rings with the service."""

    def __init__(self, conferences: Conferences) -> None:
        self.conferences = conferences

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        await self.conferences.stop()


def _workers(rt: Runtime) -> list[Worker]:
    found = _conferences(rt)
    return [PromptMaker(MeetingPrompts(rt.settings.prompts))] + ([ConferenceWorker(found)] if found else [])


def _live(rt: Runtime) -> LiveMeetings:
    """The one live view of the rooms of this runtime (the API reads what the AMI hook feeds)."""
    found = vars(rt).get("meetings_live")
    if not isinstance(found, LiveMeetings):
        found = LiveMeetings(rt.pool, rt.events, rt.clock)
        vars(rt)["meetings_live"] = found
    return found


def _conferences(rt: Runtime) -> Conferences | None:
    """The one starter of ad-hoc conferences of this runtime (None without AMI)."""
    if rt.ami is None:
        return None
    found = vars(rt).get("meetings_conferences")
    if not isinstance(found, Conferences):
        found = Conferences(rt.ami, _live(rt))
        vars(rt)["meetings_conferences"] = found
    return found


def _ami(rt: Runtime, ami: AmiClient) -> None:
    _live(rt).install(ami)


def _app(app: web.Application, rt: Runtime) -> None:
    app[http_live.LIVE] = _live(rt) if rt.ami is not None else None
    app[http_conferences.CONFERENCES] = _conferences(rt)


FEATURE = Feature(
    name="meetings",
    routes=(http.routes, http_live.routes, http_conferences.routes),
    dialplan="extensions_meetings.conf",
    workers=_workers,
    ami=_ami,
    app=_app,
)
