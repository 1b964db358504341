"""Answer groups in the control service: HTTP routes and AMI hooks (the call targets and FastAGI
handlers are its call path, call_path.py)."""

from __future__ import annotations

from aiohttp import web

from pbx_control.ami import AmiClient
from pbx_control.feature import Feature, Runtime
from pbx_control.groups import http, http_queued, waiting
from pbx_control.groups.lamps import sync_hints, sync_lamps
from pbx_control.groups.queued import QueueStatus, follow_queues
from pbx_control.groups.reconcile import Reconciler


def _ami(rt: Runtime, ami: AmiClient) -> None:
    """After every AMI (re)connect: night hints written and loaded, lamps set, stray members settled;
    callers joining and leaving queues published as queue.changed."""

    async def on_ready() -> None:
        await sync_hints(rt.pool, rt.dialplan.etc_dir, rt.dialplan.reload)
        await sync_lamps(rt.pool, ami)

    ami.on_ready(on_ready)
    Reconciler(rt.pool, ami).attach()
    if rt.calls is not None:
        follow_queues(ami, rt.calls, rt.events)


def _app(app: web.Application, rt: Runtime) -> None:
    """The waiting callers (GET /calls/queued), where this process drives Asterisk."""
    if rt.ami is None or rt.calls is None:
        app[http_queued.QUEUE_STATUS] = None
        return
    app[http_queued.QUEUE_STATUS] = QueueStatus(waiting.of(rt.ami, rt.calls))


FEATURE = Feature(
    name="groups",
    routes=(http.routes, http_queued.routes),
    dialplan="extensions_groups.conf",
    ami=_ami,
    app=_app,
)
