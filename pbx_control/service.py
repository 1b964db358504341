"""The control service: FastAGI server, AMI bridge and HTTP API in one process (each optional).

Components are chosen by Settings.components, so each can run alone when it must scale out.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from aiohttp import web

from pbx_control.agi import AgiServer
from pbx_control.agi.handlers import build_handlers
from pbx_control.agi.handlers.targets import Targets
from pbx_control.ami import AmiClient, CallModel, EventPublisher
from pbx_control.api.app import create_app
from pbx_control.api.sip import SipClientSettings
from pbx_control.config import Settings
from pbx_control.db.migrate import migrate
from pbx_control.db.pool import create_pool
from pbx_control.dialplan.sync import sync_org_contexts
from pbx_control.groups import wiring as groups_wiring
from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.logs import get_logger
from pbx_control.reachability.worker import PromptWorker

log = get_logger(__name__)


class ControlService:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        """clock: "now" for everything about time of day, dates and expiry, in every component."""
        self.settings = settings
        self.clock = clock
        self.pool: asyncpg.Pool | None = None
        self.agi: AgiServer | None = None
        self.ami: AmiClient | None = None
        self.events = EventPublisher()
        self.calls = CallModel(self.events)
        self._runner: web.AppRunner | None = None
        self.api_port: int | None = None
        self.prompts: PromptWorker | None = None

    async def start(self) -> None:
        s = self.settings
        self.pool = await create_pool(s.database_url)
        async with self.pool.acquire() as conn:
            applied = await migrate(conn)
        if applied:
            log.info("db.migrated", applied=applied)
        if "ami" in s.components:
            self.ami = AmiClient(s)
            self.calls.attach(self.ami)
            self.ami.on_ready(self._on_ami_ready)
            groups_wiring.attach_ami(self.pool, self.ami, s.asterisk_etc)
            await self.ami.start()
        if "agi" in s.components:
            self.agi = AgiServer(
                build_handlers(self.pool, self._call_targets(), self._extra_agi_handlers(), clock=self.clock),
                host=s.agi_host,
                port=s.agi_port,
                deadline_s=s.agi_deadline_s,
            )
            await self.agi.start()
        if "api" in s.components:
            app = create_app(
                s,
                self.pool,
                health_probe=self.health,
                on_organizations_changed=self.sync_dialplan,
                sip=SipClientSettings.from_settings(s),
                calls=self.calls if self.ami is not None else None,
                ami=self.ami,
                events=self.events if self.ami is not None else None,
                clock=self.clock,
            )
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            site = web.TCPSite(self._runner, s.api_host, s.api_port, backlog=1024)
            await site.start()
            self.api_port = s.api_port
            # Announcements of activities set through the API, made in the background.
            self.prompts = PromptWorker(self.pool, s.prompts, listen_dsn=s.database_url, clock=self.clock)
            await self.prompts.start()
        await self.sync_dialplan()
        log.info("service.started", components=list(s.components), api_port=s.api_port, agi_port=s.agi_port)

    def _call_targets(self) -> Targets:
        """Non-user call targets asked by the route handlers (features register theirs here)."""
        assert self.pool is not None
        return groups_wiring.add_targets(self.pool, Targets(), self.clock)

    def _extra_agi_handlers(self) -> dict:
        """FastAGI handlers beyond route/inbound, by name (features register theirs here)."""
        assert self.pool is not None
        return {**groups_wiring.agi_handlers(self.pool, self.clock)}

    async def sync_dialplan(self) -> None:
        """Write org-<slug> contexts from the database; reload Asterisk's dialplan when changed."""
        assert self.pool is not None
        try:
            await sync_org_contexts(self.pool, self.settings.asterisk_etc, self._reload_dialplan)
        except OSError as exc:
            log.warning("dialplan.write_failed", error=str(exc))

    async def _reload_dialplan(self) -> None:
        if self.ami is not None and self.ami.connected:
            await self.ami.command("dialplan reload")

    async def _on_ami_ready(self) -> None:
        # The call model re-derives itself (CallModel.attach). Asterisk may have (re)started with
        # an older file, or missed a reload while AMI was down.
        assert self.pool is not None
        await sync_org_contexts(self.pool, self.settings.asterisk_etc, None)
        assert self.ami is not None
        await self.ami.command("dialplan reload")

    async def health(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.ami is not None:
            out["ami"] = {
                "ok": self.ami.connected and self.ami.fully_booted,
                "connected": self.ami.connected,
                "fully_booted": self.ami.fully_booted,
                "channels": len(self.calls.channels()),
            }
        if self.agi is not None:
            out["agi"] = {
                "ok": self.agi.is_serving,
                "sessions_total": self.agi.sessions_total,
                "sessions_active": self.agi.sessions_active,
                "errors_total": self.agi.errors_total,
                "timeouts_total": self.agi.timeouts_total,
            }
        return out

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.prompts is not None:
            await self.prompts.stop()
        if self.agi is not None:
            await self.agi.stop()
        if self.ami is not None:
            await self.ami.stop()
        if self.pool is not None:
            await self.pool.close()
        log.info("service.stopped")


async def serve_forever(settings: Settings, stop: asyncio.Event) -> None:
    service = ControlService(settings)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
