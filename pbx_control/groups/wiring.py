"""How answer groups plug into the control service: call targets, FastAGI handlers, AMI hooks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from pbx_control.agi.handlers.targets import Targets
from pbx_control.groups.agi import GroupTargets, Handler
from pbx_control.groups.lamps import sync_hints, sync_lamps
from pbx_control.groups.reconcile import Reconciler
from pbx_control.kernel.clock import Clock, system_clock


def add_targets(pool: asyncpg.Pool, targets: Targets, clock: Clock = system_clock) -> Targets:
    groups = GroupTargets(pool, clock)
    targets.extensions.append(groups.by_extension)
    targets.numbers.append(groups.by_number)
    return targets


def agi_handlers(pool: asyncpg.Pool, clock: Clock = system_clock) -> dict[str, Handler]:
    groups = GroupTargets(pool, clock)
    return {"group": groups.group_handler(), "group_feature": groups.feature_handler()}


def attach_ami(pool: asyncpg.Pool, ami: Any, etc_dir: Path) -> None:
    """After every AMI (re)connect: night hints written and loaded, lamps set, stray members settled."""

    async def reload() -> None:
        await ami.command("dialplan reload")

    async def on_ready() -> None:
        await sync_hints(pool, etc_dir, reload)
        await sync_lamps(pool, ami)

    ami.on_ready(on_ready)
    Reconciler(pool, ami).attach()
