"""Who reaches a user: facts about a call to a user in, a Verdict out. Pure; tested as tables.

    blocked  ->  VIP  ->  closed phone  ->  forward all  ->  activity  ->  ring

Blocked (a number in the user's blocked callers, or no caller id while the user blocks anonymous
callers) is busy (SIP 486) and nothing rings; a VIP rings through closed phone, forward-all and
activity. Settings and activities with an end time in the past are off: expiry is decided here,
at call time, so nothing has to run when they end. The routing feature turns the verdict into a
dialplan route (routing/decision.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pbx_control.reachability.activities import is_active

Rule = Literal["blocked", "vip", "closed", "forward_all", "activity", "ring"]
Verb = Literal["busy", "ring", "voicemail", "forward", "operator"]
# Where a call goes while an activity is on.
ActivityDestination = Literal["voicemail", "forward", "operator", "ring"]


@dataclass(frozen=True)
class Activity:
    """The callee's current activity (anything but Available); until None = until further notice."""

    kind: str
    until: datetime | None = None
    destination: ActivityDestination = "voicemail"
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
