"""Answer groups where calls are routed: the groups as call targets, and their FastAGI handlers."""

from __future__ import annotations

from collections.abc import Mapping

from pbx_control.feature import AgiHandler, CallPath, Runtime
from pbx_control.groups.agi import GroupTargets
from pbx_control.routing.targets import Targets


def _targets(rt: Runtime, targets: Targets) -> None:
    groups = GroupTargets(rt.call_pool, rt.clock)
    targets.extensions.append(groups.by_extension)
    targets.numbers.append(groups.by_number)


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    groups = GroupTargets(rt.call_pool, rt.clock)
    return {"group": groups.group_handler(), "group_feature": groups.feature_handler()}


CALL_PATH = CallPath(name="groups", agi=_agi, targets=_targets)
