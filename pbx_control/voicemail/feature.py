"""Visual voicemail in the control service: the routes, the AMI hook (a box changed: sync it), the
workers (default greetings, purges of departed owners' boxes, retention) and the dialplan include
that plays the greetings (extensions_voicemail.conf)."""

from __future__ import annotations

import asyncio

from aiohttp import web
from panoramisk.message import Message

from pbx_control.ami import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.logs import get_logger
from pbx_control.voicemail import http, repository
from pbx_control.voicemail.box import Box
from pbx_control.voicemail.service import Voicemail
from pbx_control.voicemail.spool import Spool
from pbx_control.voicemail.workers import DefaultGreetings, Purges, Retention

log = get_logger("pbx_control.voicemail")
_SERVICES: dict[int, tuple[Runtime, Voicemail]] = {}


def service(rt: Runtime) -> Voicemail:
    """The one Voicemail of a runtime (shared by its routes, AMI hook and workers)."""
    found = _SERVICES.get(id(rt))
    if found is None or found[0] is not rt:
        vm = Voicemail(rt.pool, Spool(rt.settings.voicemail_spool), rt.ami, rt.events, rt.clock)
        _SERVICES[id(rt)] = (rt, vm)
        return vm
    return found[1]


def _app(app: web.Application, rt: Runtime) -> None:
    app[http.VOICEMAIL] = service(rt)


def _ami(rt: Runtime, ami: AmiClient) -> None:
    vm = service(rt)

    tasks: set[asyncio.Task[None]] = set()

    async def changed(event: Message) -> None:
        name = str(event.get("Mailbox", "") or "")
        try:
            await vm.sync_named(name)
        except (AmiError, TimeoutError) as exc:
            log.warning("voicemail.sync_failed", box=name, error=str(exc))

    async def catch_up() -> None:
        # Only the boxes with a message in the spool or in the mirror can differ: one walk over
        # the spool instead of one VoicemailBoxSummary (a realtime look-up and a directory read in
        # Asterisk) per user, which at 100,000 users kept Asterisk busy for minutes after a start.
        in_spool = await asyncio.to_thread(vm.spool.boxes_with_messages)
        boxes = [b for b in map(Box.parse, in_spool) if b is not None]
        mirrored = await repository.users_with_messages(rt.pool)
        for owner in await repository.owners_of(rt.pool, boxes, mirrored):
            box = repository.box_of(owner)
            if box is not None:
                try:
                    await vm.sync(box)
                except (AmiError, TimeoutError) as exc:
                    log.warning("voicemail.sync_failed", box=box.name, error=str(exc))
                    return

    def ready() -> None:
        # Messages left while we were away: mirrored (and mailed, if recent) in the background.
        task = asyncio.get_running_loop().create_task(catch_up(), name="voicemail-catch-up")
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    ami.on_event("MessageWaiting", changed)
    ami.on_ready(ready)


def _workers(rt: Runtime) -> list[Worker]:
    vm = service(rt)
    workers: list[Worker] = [
        DefaultGreetings(rt.pool, rt.settings.prompts, vm.spool, dsn=rt.settings.database_url)
    ]
    if rt.ami is not None:
        workers += [Purges(vm), Retention(vm, clock=rt.clock)]
    return workers


FEATURE = Feature(
    name="voicemail",
    routes=(http.routes,),
    dialplan="extensions_voicemail.conf",
    app=_app,
    ami=_ami,
    workers=_workers,
)
