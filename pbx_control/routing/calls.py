"""Routing a call: read the facts (repository), decide (decision), resolve forwards, name the caller.

Used by the FastAGI handlers `route` (calls from devices) and `inbound` (calls from the carrier).
Reads only PostgreSQL, by index: one query for an ordinary call, one more per forward hop, one for
the operator, one for the caller's name on inbound calls that ring someone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg

from pbx_control.dialplan.contract import Decision, safe_name
from pbx_control.kernel import ids
from pbx_control.logs import get_logger
from pbx_control.policy.model import DEFAULT as DEFAULT_POLICY
from pbx_control.policy.model import refusal
from pbx_control.reachability.decision import CallFacts, decide
from pbx_control.routing.decision import (
    Callee,
    Route,
    decide_inbound,
    decide_internal,
    dial_string,
    external_route,
    ring_user,
    user_route,
)
from pbx_control.routing.dialled import classify, to_e164
from pbx_control.routing.repository import RoutingRepository
from pbx_control.routing.targets import Targets

log = get_logger(__name__)

VOICEMAIL_MAIN = "001"  # dialled from one's own device: one's own voicemail, no PIN
MAX_FORWARD_HOPS = 3  # a forward to a user who forwards...: then their phones simply ring
OPERATOR_RING_S = 30
# callingpres: bits 0x60 are the presentation; 0x20 is "restricted" (the caller hid the number).
_PRES_MASK, _PRES_RESTRICTED = 0x60, 0x20

# (db, organization slug, callee user id, number) -> a name from the callee's phonebook, the
# organization's phonebook or directory, or None. See pbx_control.directory.caller_names.
CallerNameLookup = Callable[[asyncpg.Pool, str, int | None, str], Awaitable[str | None]]


@dataclass(frozen=True)
class Caller:
    """Who calls: a device of the organization (endpoint), or a number from outside."""

    endpoint: str | None = None
    number: str | None = None  # E.164 from the carrier; None when anonymous
    anonymous: bool = False


def is_anonymous(callerid_num: str, callingpres: str) -> bool:
    try:
        restricted = int(callingpres or "0") & _PRES_MASK == _PRES_RESTRICTED
    except ValueError:
        restricted = False
    return restricted or not callerid_num or callerid_num.lower() in ("anonymous", "unknown", "restricted")


class CallRouter:
    def __init__(
        self,
        repo: RoutingRepository,
        targets: Targets | None = None,
        caller_name: CallerNameLookup | None = None,
    ) -> None:
        self._repo = repo
        self._targets = targets
        self._caller_name = caller_name

    # -- entry points ---------------------------------------------------------------------------

    async def from_device(self, org: str, endpoint: str, dialled_text: str, now: datetime) -> Decision:
        """A call placed from device `endpoint` of organization `org`."""
        if dialled_text == VOICEMAIL_MAIN:
            me = await self._repo.caller(org, endpoint, now)
            if me is None:
                return Route("unknown", reason="device not of this organization")
            return Route("vmmain", voicemail=f"{me.extension}@{org}", reason="own voicemail")
        dialled = classify(dialled_text)
        if dialled.kind == "external":
            me = await self._repo.caller(org, endpoint, now)
            why = refusal(me.policy if me else DEFAULT_POLICY, "dial", dialled_text)
            if why is not None:
                return Route("refused", reason=f"call policy: {why}")
            return decide_internal(dialled, None, me.outbound if me else None)
        if dialled.kind != "extension":
            return decide_internal(dialled, None, None)
        caller = Caller(endpoint=endpoint)
        callee = await self._callee(org, dialled.value, caller, now)
        if callee is None:
            other = await self._targets.by_extension(org, dialled.value) if self._targets else None
            return other if other is not None else Route("unknown", reason="no such extension")
        return await self._to_user(callee, caller, now, "", 0, frozenset({callee.user_id}))

    async def from_carrier(
        self, dialled_text: str, callerid_num: str, callingpres: str, now: datetime
    ) -> tuple[str | None, Decision]:
        """A call from the carrier to one of our numbers: (organization, decision)."""
        number = to_e164(dialled_text)
        if number is None:
            return None, Route("unknown", reason="not a number")
        caller_number = None if is_anonymous(callerid_num, callingpres) else _caller_e164(callerid_num)
        caller = Caller(number=caller_number, anonymous=caller_number is None)
        org, callee = await self._repo.by_number(number, _numbers(caller), now)
        if org is None:
            return None, decide_inbound(None, None)
        if callee is None:
            other = await self._targets.by_number(org, number) if self._targets else None
            return org, other if other is not None else Route("unknown", organization=org, reason="no user")
        decision = await self._to_user(callee, caller, now, org, 0, frozenset({callee.user_id}))
        if isinstance(decision, Route) and decision.action == "dial" and caller_number:
            name = await self._name(org, callee.user_id, caller_number)
            if name:
                decision = replace(decision, callerid_name=name)
        return org, decision

    # -- the user path --------------------------------------------------------------------------

    async def _callee(self, org: str, extension: str, caller: Caller, now: datetime) -> Callee | None:
        if caller.endpoint is not None:
            return await self._repo.callee_from_device(org, extension, caller.endpoint, now)
        return await self._repo.callee(org, extension, _numbers(caller), now)

    async def _to_user(
        self,
        callee: Callee,
        caller: Caller,
        now: datetime,
        organization: str,
        hops: int,
        seen: frozenset[int],
    ) -> Decision:
        facts = CallFacts(
            now, callee.mark, caller.anonymous, callee.block_anonymous, callee.activity, callee.settings
        )
        verdict = decide(facts)
        org = callee.organization
        forward = operator = on_busy = on_noanswer = None
        if verdict.verb == "forward":
            target = await self._forward(callee, verdict.target, caller, now, organization, hops, seen)
            if target is not None and not isinstance(target, Route):
                return target  # another kind of target (an answer group): its own decision
            forward = target
        elif verdict.verb == "operator":
            endpoints = await self._repo.operator_endpoints(org)
            if endpoints:
                operator = Route("dial", dial_string(endpoints), OPERATOR_RING_S, reason="operator")
        elif verdict.verb == "ring":
            s = callee.settings
            if s.forward_busy:
                on_busy = await self._leg(callee, s.forward_busy, caller, now)
            if s.forward_no_answer:
                on_noanswer = await self._leg(callee, s.forward_no_answer, caller, now)
        return user_route(
            callee,
            verdict,
            organization=organization,
            forward=forward,
            operator=operator,
            on_busy=on_busy,
            on_noanswer=on_noanswer,
        )

    async def _forward(
        self,
        callee: Callee,
        target: str,
        caller: Caller,
        now: datetime,
        organization: str,
        hops: int,
        seen: frozenset[int],
    ) -> Decision | None:
        """Where a forward (forward-all, or an activity's) leads: that user's own decision, an
        answer group, or out through the trunk with the forwarding user's caller id."""
        org = callee.organization
        if not ids.EXTENSION.fullmatch(target):
            if _refused(callee, target):
                return None  # not (or no longer) allowed: the caller gets the voicemail
            return external_route(target, callee.outbound, organization)
        nxt = await self._callee(org, target, caller, now)
        if nxt is None:
            return await self._targets.by_extension(org, target) if self._targets else None
        if nxt.user_id in seen or hops + 1 >= MAX_FORWARD_HOPS:
            log.info("route.forward_loop", extension=target, hops=hops)
            plain = ring_user(nxt)
            return replace(plain, voicemail=nxt.mailbox) if plain.action == "dial" else plain
        return await self._to_user(nxt, caller, now, organization, hops + 1, seen | {nxt.user_id})

    async def _leg(self, callee: Callee, target: str, caller: Caller, now: datetime) -> Route | None:
        """The target of a forward on busy / no answer: that user's phones, or the number outside."""
        if not ids.EXTENSION.fullmatch(target):
            return None if _refused(callee, target) else external_route(target, callee.outbound)
        nxt = await self._callee(callee.organization, target, caller, now)
        return ring_user(nxt) if nxt is not None and nxt.user_id != callee.user_id else None

    async def _name(self, org: str, callee_user_id: int, number: str) -> str:
        if self._caller_name is None:
            return ""
        try:
            return safe_name(await self._caller_name(self._repo.pool, org, callee_user_id, number))
        except Exception:
            # A name is a nicety: the call rings without it.
            log.exception("route.caller_name_failed")
            return ""


def _refused(callee: Callee, target: str) -> bool:
    """A forward out through the trunk the callee's call policy does not (or no longer) allow:
    set before the policy changed, or stored before there was one."""
    why = refusal(callee.policy, "forward", target)
    if why is not None:
        log.info("route.forward_refused", user_id=callee.user_id, reason=why)
    return why is not None


def _numbers(caller: Caller) -> tuple[str, ...]:
    return (caller.number,) if caller.number else ()


def _caller_e164(callerid_num: str) -> str | None:
    """The caller's number as caller lists store it, E.164 only: a number from outside that looks
    like an extension must never pass for a colleague (their VIP mark, their block)."""
    return to_e164(callerid_num.strip())
