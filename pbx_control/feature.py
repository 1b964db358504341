"""What a feature brings to the control service, and what it is built with.

A feature folder (routing/, groups/, ...) declares one `Feature` in its `feature.py`;
`pbx_control.features` lists them and `pbx_control.service` composes that list. A feature with
FastAGI handlers or call targets also declares its `CallPath` in its `call_path.py`, listed in
`pbx_control.call_paths`: the FastAGI process (service_agi.py) imports that list alone, so it
carries no HTTP server and no API schemas. Nothing else wires features together.

This module is imported by the FastAGI process too: what only the service needs is imported for
type checking alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pbx_control.kernel.clock import Clock, system_clock
from pbx_control.routing.targets import Targets

if TYPE_CHECKING:
    import asyncpg
    from aiohttp import web

    from pbx_control.agi.session import AgiSession
    from pbx_control.ami import AmiClient, CallModel, EventPublisher
    from pbx_control.api.registry import RouteTable
    from pbx_control.config import Settings
    from pbx_control.dialplan.sync import Dialplan

AgiHandler = Callable[["AgiSession"], Awaitable[None]]
# A question about live state (the call model) that the process running the AMI bridge answers for
# the FastAGI process; argument and answer are JSON values.
LiveQuery = Callable[[Any], Awaitable[Any]]
AskLive = Callable[[str, Any], Awaitable[Any]]


class Worker(Protocol):
    """Background work a feature runs beside the API (e.g. making announcements)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class Runtime:
    """The shared objects features are built with. `ami`, `calls` and `events` are None in a
    process that does not run the AMI bridge. `targets` collects every feature's call targets
    before the FastAGI handlers are built. `clock` is "now" for everything about time of day,
    dates and expiry (tests build the service with a fixed one). `pool` serves the API and
    background work; the call path (FastAGI handlers and the call targets they ask) uses
    `call_pool`."""

    settings: Settings
    pool: asyncpg.Pool
    dialplan: Dialplan
    ami: AmiClient | None = None
    calls: CallModel | None = None
    events: EventPublisher | None = None
    targets: Targets = field(default_factory=Targets)
    clock: Clock = system_clock
    # FastAGI's own connections, so API load cannot starve routing (None: `pool`).
    agi_pool: asyncpg.Pool | None = None
    # In a FastAGI process of its own (service_agi.py): asks the service's live queries (None:
    # there is no process with the call model to ask, or `calls` is here).
    ask_live: AskLive | None = None

    @property
    def call_pool(self) -> asyncpg.Pool:
        return self.agi_pool if self.agi_pool is not None else self.pool


@dataclass(frozen=True)
class Feature:
    name: str
    # HTTP routes, installed under /api/v1 and documented in the one OpenAPI document.
    routes: tuple[RouteTable, ...] = ()
    # The feature's include file in asterisk-config/ (None: it has no dialplan of its own).
    dialplan: str | None = None
    # Hooks on the AMI connection (events, after every (re)connect), when this process runs AMI.
    ami: Callable[[Runtime, AmiClient], None] | None = None
    # Background workers that need the AMI connection, started with it (wherever it runs).
    ami_workers: Callable[[Runtime, AmiClient], list[Worker]] | None = None
    # Counters shown under the feature's name in GET /health, where the AMI bridge runs.
    ami_health: Callable[[Runtime], Mapping[str, object]] | None = None
    # The feature's shared objects in the API application (its AppKeys).
    app: Callable[[web.Application, Runtime], None] | None = None
    # Questions about live state the FastAGI process may ask (answered where `calls` is).
    live_queries: Callable[[Runtime], Mapping[str, LiveQuery]] | None = None
    # Background workers started with the API.
    workers: Callable[[Runtime], list[Worker]] | None = None


@dataclass(frozen=True)
class CallPath:
    """What a feature runs where calls are routed (the FastAGI process, or the service itself with
    `PBX_AGI_PROCESS=shared`). Declared in the feature's `call_path.py`."""

    name: str
    # FastAGI handlers by the name the dialplan calls: AGI(agi://host:port/<name>).
    agi: Callable[[Runtime], Mapping[str, AgiHandler]] | None = None
    # Extensions and numbers that are not users (answer groups...), asked by the routing of calls.
    targets: Callable[[Runtime, Targets], None] | None = None
