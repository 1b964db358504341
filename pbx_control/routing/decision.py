"""A call's route for the dialplan: a reachability verdict (reachability/decision.py) or a plain
dialled number in, a Route out. Pure; tested as tables.

`user_route(...)` turns the verdict for a call to a user into a Route (voicemail box,
announcement, forwards on busy / no answer, caller id shown); `external_route` leaves through the
trunk. A Route becomes the channel variables the dialplan acts on (dialplan/contract.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from pbx_control.dialplan import contract
from pbx_control.kernel import ids
from pbx_control.policy.model import DEFAULT as DEFAULT_POLICY
from pbx_control.policy.model import CallPolicy
from pbx_control.reachability.decision import NO_DIVERSIONS, Activity, Diversions, Verdict
from pbx_control.routing.dialled import Dialled

Action = Literal["dial", "external", "voicemail", "vmmain", "busy", "unknown", "unavailable", "refused"]
CallerIdMode = Literal["main", "own", "hidden"]
EXTERNAL_RING_S = 120


# ---------------------------------------------------------------------------------------------
# Routes


@dataclass(frozen=True)
class Leg:
    """A second try after the first Dial (forward on busy / on no answer)."""

    dial: str
    timeout: int
    callerid_num: str = ""  # external legs: the number shown
    callerid_hidden: bool = False


@dataclass(frozen=True)
class Route:
    action: Action
    dial: str = ""
    timeout: int = 0
    callerid_num: str = ""
    organization: str = ""
    reason: str = field(default="", compare=False)
    callerid_hidden: bool = False
    callerid_name: str = ""  # shown to the callee (dial)
    prompt: str = ""  # announcement played first (answers the call)
    voicemail: str = ""  # <extension>@<organization>: the box after no answer / busy, or now
    on_busy: Leg | None = None
    on_noanswer: Leg | None = None

    def variables(self) -> dict[str, str]:
        """Channel variables for the dialplan; every value is checked so none can inject."""
        values: dict[contract.Var, contract.Value] = {
            contract.ROUTE: self.action,
            contract.DIAL: self.dial,
            contract.DIAL_TIMEOUT: self.timeout if self.dial else None,
            contract.CALLERID_NUM: self.callerid_num,
            contract.CALLERID_HIDDEN: self.callerid_hidden,
            contract.CALLERID_NAME: self.callerid_name,
            contract.ORG: self.organization,
            contract.PROMPT: self.prompt,
            contract.VOICEMAIL: self.voicemail,
        }
        for leg, dial, timeout, num, hidden in (
            (self.on_busy, contract.BUSY_DIAL, contract.BUSY_TIMEOUT,
             contract.BUSY_CALLERID_NUM, contract.BUSY_CALLERID_HIDDEN),
            (self.on_noanswer, contract.NOANSWER_DIAL, contract.NOANSWER_TIMEOUT,
             contract.NOANSWER_CALLERID_NUM, contract.NOANSWER_CALLERID_HIDDEN),
        ):  # fmt: skip
            if leg is not None:
                values |= {dial: leg.dial, timeout: leg.timeout, num: leg.callerid_num}
                values[hidden] = leg.callerid_hidden
        return contract.variables(values)


# ---------------------------------------------------------------------------------------------
# Callers and callees as the repository reads them


@dataclass(frozen=True)
class Outbound:
    """How a user's calls leave through the trunk."""

    trunk: str | None  # endpoint name of the trunk, None when there is none
    user_number: str | None  # the user's own DID
    main_number: str | None  # the organization's main number
    callerid_mode: CallerIdMode | None = None  # the temporary outgoing caller id, while it is on

    def callerid(self) -> tuple[str, bool]:
        """(number shown, hidden): the temporary choice, else own DID, else the main number."""
        if self.callerid_mode == "hidden":
            return "", True
        if self.callerid_mode == "main" and self.main_number:
            return self.main_number, False
        return self.user_number or self.main_number or "", False

    def leg(self, number: str) -> Leg | None:
        """A Dial to `number` (E.164 or emergency) through the trunk; None without a trunk."""
        if self.trunk is None:
            return None
        if not ids.ENDPOINT.fullmatch(self.trunk) or not ids.NUMBER.fullmatch(number):
            raise ValueError("unsafe trunk or number")
        num, hidden = self.callerid()
        return Leg(f"PJSIP/{number}@{self.trunk}", EXTERNAL_RING_S, num, hidden)


@dataclass(frozen=True)
class Callee:
    user_id: int
    extension: str
    name: str
    endpoints: tuple[str, ...]
    ring_time: int
    organization: str = ""
    block_anonymous: bool = False
    mark: Literal["vip", "blocked"] | None = None
    activity: Activity | None = None
    settings: Diversions = NO_DIVERSIONS
    outbound: Outbound | None = None  # for forwards through the trunk
    policy: CallPolicy = DEFAULT_POLICY  # the call policy for the user's forwards

    @property
    def mailbox(self) -> str:
        return f"{self.extension}@{self.organization}" if self.organization else ""


def dial_string(endpoints: tuple[str, ...]) -> str:
    for e in endpoints:
        if not ids.ENDPOINT.fullmatch(e):
            raise ValueError(f"unsafe endpoint name {e!r}")
    return "&".join(f"PJSIP/{e}" for e in endpoints)


def ring_user(callee: Callee | None, organization: str = "") -> Route:
    """All the user's devices, nothing more (no voicemail, no forwards)."""
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


def leg_to(route: Route | None) -> Leg | None:
    """A resolved forward target as a second try after the first Dial (dial routes only)."""
    if route is None or route.action not in ("dial", "external") or not route.dial:
        return None
    return Leg(route.dial, route.timeout, route.callerid_num, route.callerid_hidden)


def user_route(
    callee: Callee,
    verdict: Verdict,
    *,
    organization: str = "",
    forward: Route | None = None,
    operator: Route | None = None,
    on_busy: Route | None = None,
    on_noanswer: Route | None = None,
) -> Route:
    """A verdict for a call to `callee` as a Route.

    forward / operator: the resolved target of a forward or the operator (None: not reachable,
    the caller gets voicemail). on_busy / on_noanswer: resolved targets of the forwards after
    ringing. `organization` is set on inbound routes (the dialplan stamps the call with it)."""
    box = callee.mailbox
    reason = f"{verdict.rule}: {verdict.verb}"
    voicemail = Route(
        "voicemail", organization=organization, voicemail=box, prompt=verdict.prompt, reason=reason
    )
    if verdict.verb == "busy":
        return Route("busy", organization=organization, reason=reason)
    if verdict.verb == "voicemail":
        return voicemail if box else Route("unavailable", organization=organization, reason=reason)
    if verdict.verb in ("forward", "operator"):
        target = forward if verdict.verb == "forward" else operator
        if target is None or target.action in ("unknown", "unavailable", "busy"):
            return voicemail if box else Route("unavailable", organization=organization, reason=reason)
        if target.action == "voicemail":
            # A forward to someone away: their box, but the announcement the caller hears first is
            # the forwarding user's (the one they called).
            return replace(
                target, organization=organization, prompt=verdict.prompt or target.prompt, reason=reason
            )
        return replace(
            target,
            organization=organization,
            prompt=verdict.prompt,
            voicemail=target.voicemail or box,
            reason=f"{reason} ({target.reason})",
        )
    # ring
    first = ring_user(callee, organization)
    if first.action != "dial":
        return replace(first, reason=f"{reason}: {first.reason}")
    s = callee.settings
    noanswer = leg_to(on_noanswer) if s.forward_no_answer else None
    return replace(
        first,
        timeout=s.forward_no_answer_seconds if noanswer else callee.ring_time,
        prompt=verdict.prompt,
        voicemail=box,
        on_busy=leg_to(on_busy) if s.forward_busy else None,
        on_noanswer=noanswer,
        reason=reason,
    )


def external_route(number: str, outbound: Outbound | None, organization: str = "") -> Route:
    """Out through the trunk to `number` (E.164 or an emergency number)."""
    if outbound is None or outbound.trunk is None:
        return Route("unknown", organization=organization, reason="no trunk")
    leg = outbound.leg(number)
    assert leg is not None
    return Route(
        "external",
        leg.dial,
        leg.timeout,
        leg.callerid_num,
        organization=organization,
        callerid_hidden=leg.callerid_hidden,
        reason="via trunk",
    )


def decide_internal(dialled: Dialled, callee: Callee | None, outbound: Outbound | None) -> Route:
    """A call placed from one of the organization's devices, before any user rules: an extension
    rings its user, an external number leaves through the trunk with the caller's caller id."""
    if dialled.kind == "extension":
        if callee is not None:
            return ring_user(callee)
        return Route("unknown", reason="no such extension")
    if dialled.kind == "external":
        return external_route(dialled.value, outbound)
    return Route("unknown", reason="not a number")


def decide_inbound(organization: str | None, callee: Callee | None) -> Route:
    """A call from the carrier to one of our numbers, before any user rules."""
    if organization is None:
        return Route("unknown", reason="number not ours")
    return ring_user(callee, organization)
