"""The routing decision: facts in, a Route out. Pure; tested as tables.

A Route becomes the channel variables the dialplan acts on (see asterisk-config/extensions.conf).
Later rules (blocked, VIP, closed phone, forward, activity) plug in here with a fixed precedence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pbx_control.routing.dialled import Dialled

Action = Literal["dial", "external", "unknown", "unavailable"]
_ENDPOINT = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
_NUMBER = re.compile(r"^\+?[0-9]{2,16}$")
_SLUG = re.compile(r"^[a-z][a-z0-9]{1,23}$")


@dataclass(frozen=True)
class Callee:
    user_id: int
    extension: str
    name: str
    endpoints: tuple[str, ...]
    ring_time: int


@dataclass(frozen=True)
class Outbound:
    trunk: str | None  # endpoint name of the trunk, None when there is none
    user_number: str | None  # the calling user's own DID
    main_number: str | None  # the organization's main number


@dataclass(frozen=True)
class Route:
    action: Action
    dial: str = ""
    timeout: int = 0
    callerid_num: str = ""
    organization: str = ""
    reason: str = field(default="", compare=False)

    def variables(self) -> dict[str, str]:
        """Channel variables for the dialplan; every value is checked so none can inject."""
        out = {"PBX_ROUTE": self.action}
        if self.dial:
            out["PBX_DIAL"] = self.dial
            out["PBX_DIAL_TIMEOUT"] = str(self.timeout)
        if self.callerid_num:
            if not _NUMBER.match(self.callerid_num):
                raise ValueError(f"unsafe caller id {self.callerid_num!r}")
            out["PBX_CALLERID_NUM"] = self.callerid_num
        if self.organization:
            if not _SLUG.match(self.organization):
                raise ValueError(f"unsafe organization {self.organization!r}")
            out["PBX_ORG"] = self.organization
        return out


def dial_string(endpoints: tuple[str, ...]) -> str:
    for e in endpoints:
        if not _ENDPOINT.match(e):
            raise ValueError(f"unsafe endpoint name {e!r}")
    return "&".join(f"PJSIP/{e}" for e in endpoints)


def ring_user(callee: Callee | None, organization: str = "") -> Route:
    if callee is None:
        return Route("unknown", organization=organization, reason="no such user")
    if not callee.endpoints:
        return Route("unavailable", organization=organization, reason="user has no device")
    return Route(
        "dial",
        dial_string(callee.endpoints),
        callee.ring_time,
        organization=organization,
        reason="ring all devices",
    )


def decide_internal(dialled: Dialled, callee: Callee | None, outbound: Outbound | None) -> Route:
    """A call placed from one of the organization's devices."""
    if dialled.kind == "extension":
        if callee is not None:
            return ring_user(callee)
        return Route("unknown", reason="no such extension")
    if dialled.kind == "external":
        if outbound is None or outbound.trunk is None:
            return Route("unknown", reason="no trunk")
        if not _ENDPOINT.match(outbound.trunk) or not _NUMBER.match(dialled.value):
            raise ValueError("unsafe trunk or number")
        callerid = outbound.user_number or outbound.main_number or ""
        return Route("external", f"PJSIP/{dialled.value}@{outbound.trunk}", 120, callerid, reason="via trunk")
    return Route("unknown", reason="not a number")


def decide_inbound(organization: str | None, callee: Callee | None) -> Route:
    """A call from the carrier to one of our numbers."""
    if organization is None:
        return Route("unknown", reason="number not ours")
    return ring_user(callee, organization)
