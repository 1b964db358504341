"""The routing decision: facts in, a Route out. Pure; tested as tables.

Two steps, both pure:

1. `decide(facts)`: who wins for a call to a user, with a fixed precedence
       blocked  ->  VIP  ->  closed phone  ->  forward all  ->  activity  ->  ring
   Blocked (a blocked number, or no caller id while the user blocks anonymous callers) is busy
   (SIP 486) and nothing rings; a VIP rings through closed phone, forward-all and activity.
   Settings and activities with an end time in the past are off: expiry is decided here, at call
   time, so nothing has to run when they end.
2. `user_route(...)`: that verdict as a Route for the dialplan (voicemail box, announcement,
   forwards on busy / no answer, caller id shown).

A Route becomes the channel variables the dialplan acts on (see pbx_control/asterisk-config/extensions.conf).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pbx_control.reachability.activities import is_active
from pbx_control.routing.dialled import Dialled

Action = Literal["dial", "external", "voicemail", "vmmain", "busy", "unknown", "unavailable"]
Rule = Literal["blocked", "vip", "closed", "forward_all", "activity", "ring"]
Verb = Literal["busy", "ring", "voicemail", "forward", "operator"]
Destination = Literal["voicemail", "forward", "operator", "ring"]
CallerIdMode = Literal["main", "own", "hidden"]

_ENDPOINT = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
_NUMBER = re.compile(r"^\+?[0-9]{2,16}$")
_SLUG = re.compile(r"^[a-z][a-z0-9]{1,23}$")
_EXTENSION = re.compile(r"^[1-9][0-9]{1,7}$")
_PROMPT = re.compile(r"^[0-9a-f]{32}$")
# A dial string we built: devices (PJSIP/<endpoint>&...) or one number through a trunk.
_DIAL = re.compile(
    r"^(PJSIP/[a-z][a-z0-9_]{2,63}(&PJSIP/[a-z][a-z0-9_]{2,63})*|PJSIP/\+?[0-9]{2,16}@[a-z][a-z0-9_]{2,63})$"
)
# What may stand in a display name: no control or format characters, no quotes, backslashes or
# angle brackets (they end a SIP display name or a dialplan argument). Letters of any script stay.
_NAME_DROP = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\"\\<>]")
MAX_NAME = 64
EXTERNAL_RING_S = 120


def safe_name(name: str | None) -> str:
    """A caller name fit for CALLERID(name), a SIP display name and a log line ('' if none).

    Control and bidi characters, double quotes, backslashes and angle brackets go; an apostrophe
    becomes a typographic one (U+2019); whitespace collapses; at most MAX_NAME chars."""
    if not name:
        return ""
    text = _NAME_DROP.sub(" ", name).replace("'", "\u2019")
    return " ".join(text.split())[:MAX_NAME].rstrip()


# ---------------------------------------------------------------------------------------------
# Facts


@dataclass(frozen=True)
class Activity:
    """The callee's current activity (anything but Available); until None = until further notice."""

    kind: str
    until: datetime | None = None
    destination: Destination = "voicemail"
    forward_to: str | None = None
    prompt: str | None = None  # the announcement, when its audio is ready

    def on(self, now: datetime) -> bool:
        return is_active(self.kind, self.until, now)


@dataclass(frozen=True)
class Diversions:
    """The callee's custom settings; an `*_until` of None means until further notice."""

    closed: bool = False
    closed_until: datetime | None = None
    forward_all: str | None = None
    forward_all_until: datetime | None = None
    forward_busy: str | None = None
    forward_no_answer: str | None = None
    forward_no_answer_seconds: int = 20

    def closed_on(self, now: datetime) -> bool:
        return self.closed and _running(self.closed_until, now)

    def forward_all_on(self, now: datetime) -> bool:
        return bool(self.forward_all) and _running(self.forward_all_until, now)


NO_DIVERSIONS = Diversions()


def _running(until: datetime | None, now: datetime) -> bool:
    return until is None or until > now


@dataclass(frozen=True)
class CallFacts:
    now: datetime
    mark: Literal["vip", "blocked"] | None = None  # the caller in the callee's caller lists
    anonymous: bool = False  # the caller sent no usable number, or hid it
    block_anonymous: bool = False
    activity: Activity | None = None
    settings: Diversions = NO_DIVERSIONS


@dataclass(frozen=True)
class Verdict:
    rule: Rule
    verb: Verb
    target: str = ""  # forward: an extension or E.164 number
    prompt: str = ""  # activity: the announcement to play first, when ready


def decide(f: CallFacts) -> Verdict:
    """Who wins: blocked, then VIP, then closed phone, then forward-all, then activity, then ring."""
    if f.mark == "blocked" or (f.anonymous and f.block_anonymous):
        return Verdict("blocked", "busy")
    if f.mark == "vip":
        return Verdict("vip", "ring")
    if f.settings.closed_on(f.now):
        return Verdict("closed", "voicemail")
    if f.settings.forward_all_on(f.now):
        return Verdict("forward_all", "forward", f.settings.forward_all or "")
    a = f.activity
    if a is not None and a.on(f.now):
        prompt = a.prompt or ""
        if a.destination == "forward" and a.forward_to:
            return Verdict("activity", "forward", a.forward_to, prompt)
        if a.destination == "operator":
            return Verdict("activity", "operator", prompt=prompt)
        if a.destination == "ring":
            return Verdict("activity", "ring", prompt=prompt)
        return Verdict("activity", "voicemail", prompt=prompt)
    return Verdict("ring", "ring")


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
        out = {"PBX_ROUTE": self.action}
        if self.dial:
            _check_dial(self.dial)
            out["PBX_DIAL"] = self.dial
            out["PBX_DIAL_TIMEOUT"] = str(int(self.timeout))
        if self.callerid_num:
            _check_number(self.callerid_num)
            out["PBX_CALLERID_NUM"] = self.callerid_num
        if self.callerid_hidden:
            out["PBX_CALLERID_HIDDEN"] = "1"
        if self.callerid_name:
            if safe_name(self.callerid_name) != self.callerid_name:
                raise ValueError(f"unsafe caller name {self.callerid_name!r}")
            out["PBX_CALLERID_NAME"] = self.callerid_name
        if self.organization:
            if not _SLUG.fullmatch(self.organization):
                raise ValueError(f"unsafe organization {self.organization!r}")
            out["PBX_ORG"] = self.organization
        if self.prompt:
            if not _PROMPT.fullmatch(self.prompt):
                raise ValueError(f"unsafe prompt {self.prompt!r}")
            out["PBX_PROMPT"] = self.prompt
        if self.voicemail:
            ext, _, org = self.voicemail.partition("@")
            if not (_EXTENSION.fullmatch(ext) and _SLUG.fullmatch(org)):
                raise ValueError(f"unsafe mailbox {self.voicemail!r}")
            out["PBX_VOICEMAIL"] = self.voicemail
        for name, leg in (("BUSY", self.on_busy), ("NOANSWER", self.on_noanswer)):
            if leg is None:
                continue
            _check_dial(leg.dial)
            out[f"PBX_{name}_DIAL"] = leg.dial
            out[f"PBX_{name}_TIMEOUT"] = str(int(leg.timeout))
            if leg.callerid_num:
                _check_number(leg.callerid_num)
                out[f"PBX_{name}_CALLERID_NUM"] = leg.callerid_num
            if leg.callerid_hidden:
                out[f"PBX_{name}_CALLERID_HIDDEN"] = "1"
        return out


def _check_dial(dial: str) -> None:
    if not _DIAL.fullmatch(dial):
        raise ValueError(f"unsafe dial string {dial!r}")


def _check_number(number: str) -> None:
    if not _NUMBER.fullmatch(number):
        raise ValueError(f"unsafe caller id {number!r}")


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
        if not _ENDPOINT.fullmatch(self.trunk) or not _NUMBER.fullmatch(number):
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

    @property
    def mailbox(self) -> str:
        return f"{self.extension}@{self.organization}" if self.organization else ""


def dial_string(endpoints: tuple[str, ...]) -> str:
    for e in endpoints:
        if not _ENDPOINT.fullmatch(e):
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
