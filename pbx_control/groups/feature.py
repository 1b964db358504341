"""Answer groups in the control service: HTTP routes, call targets, FastAGI handlers, AMI hooks."""

from __future__ import annotations

from collections.abc import Mapping

from pbx_control.ami import AmiClient
from pbx_control.feature import AgiHandler, Feature, Runtime
from pbx_control.groups import http, http_queued
from pbx_control.groups.agi import GroupTargets
from pbx_control.groups.lamps import sync_hints, sync_lamps
from pbx_control.groups.queued import follow_queues
from pbx_control.groups.reconcile import Reconciler
from pbx_control.routing.targets import Targets


def _targets(rt: Runtime, targets: Targets) -> None:
    groups = GroupTargets(rt.call_pool, rt.clock)
    targets.extensions.append(groups.by_extension)
    targets.numbers.append(groups.by_number)


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    groups = GroupTargets(rt.call_pool, rt.clock)
    return {"group": groups.group_handler(), "group_feature": groups.feature_handler()}


def _ami(rt: Runtime, ami: AmiClient) -> None:
    """After every AMI (re)connect: night hints written and loaded, lamps set, stray members settled;
    callers joining and leaving queues published as queue.changed."""

    async def on_ready() -> None:
        await sync_hints(rt.pool, rt.dialplan.etc_dir, rt.dialplan.reload)
        await sync_lamps(rt.pool, ami)

    ami.on_ready(on_ready)
    Reconciler(rt.pool, ami).attach()
    follow_queues(ami, rt.events)


FEATURE = Feature(
    name="groups",
    routes=(http.routes, http_queued.routes),
    dialplan="extensions_groups.conf",
    agi=_agi,
    targets=_targets,
    ami=_ami,
)
