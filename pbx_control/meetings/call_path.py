"""Meetings where calls are routed: the dial-in number as a call target, the PIN prompt
(`meeting_pin`) and the invitees of an ad-hoc conference (`conference_dial`)."""

from __future__ import annotations

from collections.abc import Mapping

from pbx_control.feature import AgiHandler, CallPath, Runtime
from pbx_control.meetings.agi import make_conference_dial_handler, make_pin_handler
from pbx_control.meetings.pins import PinThrottle
from pbx_control.meetings.targets import dial_in_target
from pbx_control.routing.calls import CallRouter
from pbx_control.routing.repository import RoutingRepository
from pbx_control.routing.targets import Targets


def _agi(rt: Runtime) -> Mapping[str, AgiHandler]:
    # invitees of a conference are routed as calls from the host's device (routing's own router)
    router = CallRouter(RoutingRepository(rt.call_pool), rt.targets, None)
    return {
        "meeting_pin": make_pin_handler(rt.call_pool, PinThrottle(rt.clock), rt.clock),
        "conference_dial": make_conference_dial_handler(rt.call_pool, router, rt.clock),
    }


def _targets(rt: Runtime, targets: Targets) -> None:
    targets.numbers.append(dial_in_target(rt.call_pool))


CALL_PATH = CallPath(name="meetings", agi=_agi, targets=_targets)
