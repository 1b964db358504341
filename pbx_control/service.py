"""The control service: FastAGI server, AMI bridge and HTTP API (each optional), composed from the
feature list (pbx_control.features) and the call paths (pbx_control.call_paths). Nothing else
wires features together.

Components are chosen by Settings.components, so each can run alone when it must scale out. The
FastAGI server runs in a child process of its own by default (Settings.agi_process, service_agi.py),
so the call path never waits behind the API, the WebSocket fan-out or AMI events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import asyncpg
from aiohttp import web

from pbx_control.agi import AgiServer
from pbx_control.ami import AmiClient, CallModel, EventPublisher
from pbx_control.ami.lane import ActionLane
from pbx_control.api.app import all_operations, create_app
from pbx_control.api.context import HealthProbe
from pbx_control.api.registry import Operation
from pbx_control.auth.purge import TokenPurgeWorker
from pbx_control.call_paths import CALL_PATHS, agi_handlers
from pbx_control.config import Settings, check_ami_secret
from pbx_control.db.migrate import migrate
from pbx_control.db.pool import API_ACQUIRE_TIMEOUT_S, create_pool
from pbx_control.dialplan.sync import Dialplan
from pbx_control.feature import CallPath, Feature, Runtime, Worker
from pbx_control.features import FEATURES
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.kernel.loop import settle_heap
from pbx_control.logs import get_logger
from pbx_control.mail.outbox import queue_state
from pbx_control.service_agi import AgiProcess, LiveQueryServer

log = get_logger(__name__)


def operations(features: Sequence[Feature] = FEATURES) -> list[Operation]:
    """Every HTTP operation of the service (the features' and the kernel's)."""
    return all_operations([table for feature in features for table in feature.routes])


def api_app(
    rt: Runtime, features: Sequence[Feature] = FEATURES, health_probe: HealthProbe | None = None
) -> web.Application:
    """The HTTP API with every feature's routes and shared objects."""
    app = create_app(
        rt.settings,
        rt.pool,
        [table for feature in features for table in feature.routes],
        dialplan=rt.dialplan,
        health_probe=health_probe,
        calls=rt.calls,
        ami=rt.ami,
        events=rt.events,
        clock=rt.clock,
    )
    for feature in features:
        if feature.app is not None:
            feature.app(app, rt)
    return app


class ControlService:
    def __init__(
        self,
        settings: Settings,
        features: Sequence[Feature] = FEATURES,
        clock: Clock = system_clock,
        call_paths: Sequence[CallPath] = CALL_PATHS,
    ) -> None:
        """clock: "now" for everything about time of day, dates and expiry, in every feature.
        call_paths: what FastAGI serves when it runs in this process (`PBX_AGI_PROCESS=shared`)."""
        self.settings = settings
        self.features = features
        self.call_paths = call_paths
        self.clock = clock
        self.pool: asyncpg.Pool | None = None
        self.agi_pool: asyncpg.Pool | None = None
        self.agi: AgiServer | AgiProcess | None = None
        self._live: LiveQueryServer | None = None
        self.ami: AmiClient | None = None
        self.events = EventPublisher()
        self.calls = CallModel(self.events)
        self.dialplan: Dialplan | None = None
        self._runner: web.AppRunner | None = None
        self.api_port: int | None = None
        self.workers: list[Worker] = []
        self._runtime: Runtime | None = None

    async def start(self) -> None:
        s = self.settings
        # Two pools: a flood of API requests (or a slow one holding connections) cannot take the
        # connections calls are routed with. The API's gives up after a bound (503 at once).
        self.pool = await create_pool(s.database_url, acquire_timeout_s=API_ACQUIRE_TIMEOUT_S)
        # FastAGI in a process of its own needs the system clock (a test's fixed clock lives here).
        own_agi = "agi" in s.components and s.agi_process == "own" and self.clock is system_clock
        if "agi" in s.components and not own_agi:
            self.agi_pool = await create_pool(s.database_url)
        if own_agi:
            # Started first: its start-up (imports, pool) overlaps this process's own.
            self._live = LiveQueryServer({})
            socket = await self._live.start() if "ami" in s.components else None
            self.agi = AgiProcess(s, live_socket=socket)
            await self.agi.start(wait=False)
        async with self.pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("db.migrated", applied=applied)
        if "ami" in s.components:
            check_ami_secret(s.ami_secret)  # never log in with an empty secret
            self.ami = AmiClient(s)
            self.ami.lane = ActionLane(s)  # a second login, events off: actions never wait behind events
        self.dialplan = Dialplan(self.pool, s.asterisk_etc, self.ami)
        rt = Runtime(
            s,
            self.pool,
            self.dialplan,
            ami=self.ami,
            calls=self.calls if self.ami is not None else None,
            events=self.events if self.ami is not None else None,
            clock=self.clock,
            agi_pool=self.agi_pool,
        )
        self._runtime = rt
        if self.ami is not None:
            self.calls.attach(self.ami)
            self.ami.on_ready(self._on_ami_ready)
            for feature in self.features:
                if feature.ami is not None:
                    feature.ami(rt, self.ami)
                if feature.ami_workers is not None:
                    self.workers += feature.ami_workers(rt, self.ami)
        # Built before AMI connects: the features' objects (hold, transfers, ...) hook the call model
        # before its first snapshot, however long the FastAGI process takes to start.
        app = api_app(rt, self.features, health_probe=self.health) if "api" in s.components else None
        if self.ami is not None:
            await self.ami.start()
            for worker in self.workers:
                await worker.start()
        if own_agi:
            assert isinstance(self.agi, AgiProcess) and self._live is not None
            if rt.calls is not None:
                for feature in self.features:
                    if feature.live_queries is not None:
                        self._live.queries.update(feature.live_queries(rt))
            await self.agi.ready()
        elif "agi" in s.components:
            self.agi = AgiServer(
                agi_handlers(rt, self.call_paths),
                host=s.agi_host,
                port=s.agi_port,
                deadline_s=s.agi_deadline_s,
            )
            await self.agi.start()
        if app is not None:
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, s.api_host, s.api_port, backlog=1024)
            await site.start()
            self.api_port = s.api_port
            # The kernel's own: expired API tokens are deleted periodically.
            api_workers: list[Worker] = [TokenPurgeWorker(self.pool, interval_s=s.token_purge_interval_s)]
            for feature in self.features:
                if feature.workers is not None:
                    api_workers += feature.workers(rt)
            for worker in api_workers:
                await worker.start()
            self.workers += api_workers
        await self.dialplan.organizations_changed()
        log.info(
            "service.started",
            components=list(s.components),
            api_port=s.api_port,
            agi_port=s.agi_port,
            agi_process="own" if own_agi else "shared",
        )

    async def _on_ami_ready(self) -> None:
        # The call model re-derives itself (CallModel.attach). Asterisk may have (re)started with
        # an older file, or missed a reload while AMI was down.
        assert self.dialplan is not None
        await self.dialplan.write_org_contexts()
        await self.dialplan.reload()

    async def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ami is not None:
            out["ami"] = {
                # ok once the live call model is re-derived too: until then call actions are 503s
                "ok": self.ami.connected and self.ami.fully_booted and self.calls.current,
                "connected": self.ami.connected,
                "fully_booted": self.ami.fully_booted,
                "calls_current": self.calls.current,
                "channels": len(self.calls.channels()),
                "action_lane": self.ami.lane is not None and self.ami.lane.connected,
            }
            for feature in self.features:
                if feature.ami_health is not None and self._runtime is not None:
                    out[feature.name] = dict(feature.ami_health(self._runtime))
        if self.agi is not None:
            out["agi"] = {
                "ok": self.agi.is_serving,
                "sessions_total": self.agi.sessions_total,
                "sessions_active": self.agi.sessions_active,
                "errors_total": self.agi.errors_total,
                "timeouts_total": self.agi.timeouts_total,
                # headers it could not read (such a call goes to the dialplan's fallback)
                "rejected_total": self.agi.rejected_total,
            }
        if self.pool is not None and "api" in self.settings.components:
            # The outbox's state; a relay that is down delays mail but does not degrade the service.
            out["mail"] = {"relay_configured": bool(self.settings.smtp_host), **await queue_state(self.pool)}
        return out

    async def stop(self) -> None:
        """Stops what start() started; a second call finds nothing left to stop."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for worker in self.workers:
            await worker.stop()
        self.workers = []
        if self.agi is not None:
            await self.agi.stop()
            self.agi = None
        if self._live is not None:
            await self._live.stop()
            self._live = None
        if self.ami is not None:
            await self.ami.stop()
            self.ami = None
        for pool in (self.agi_pool, self.pool):
            if pool is not None:
                await pool.close()
        self.agi_pool = self.pool = None
        log.info("service.stopped")


async def serve_forever(settings: Settings, stop: asyncio.Event) -> None:
    service = ControlService(settings)
    await service.start()
    settle_heap()
    try:
        await stop.wait()
    finally:
        await service.stop()
