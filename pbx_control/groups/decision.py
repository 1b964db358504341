"""Where a call to an answer group goes: facts in, a GroupRoute out. Pure; tested as tables.

    night (manual switch, or outside the weekly schedule, or a holiday) -> the night destination
    nobody logged in                                                   -> the overflow destination
    otherwise                                                          -> the queue, with max wait,
                                                                          then the overflow destination

A destination that does not resolve (deleted user, no trunk...) falls back: night -> overflow ->
unavailable (SIP 480). The dialplan (pbx_control/asterisk-config/extensions_groups.conf) acts on the
variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal, Protocol, get_args
from zoneinfo import ZoneInfo

from pbx_control.dialplan import contract
from pbx_control.kernel import ids

DestinationKind = Literal["user", "group", "voicemail", "external", "answering_service"]
DESTINATION_KINDS: tuple[DestinationKind, ...] = get_args(DestinationKind)
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = get_args(Day)
HHMM = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$")  # a schedule's times, 24:00 the day's end


def minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


# What the decision reads of a schedule and its holidays: the rows the repository reads back, or
# the API's validated models (groups/model.py), alike.
class OpenInterval(Protocol):
    @property
    def day(self) -> str: ...
    @property
    def open(self) -> str: ...  # HH:MM
    @property
    def close(self) -> str: ...  # HH:MM, 24:00 the end of the day


class ClosedDay(Protocol):
    @property
    def date(self) -> date: ...


GroupAction = Literal["queue", "dial", "external", "group-voicemail", "group-goto", "unavailable"]

MAX_GROUP_HOPS = 3  # overflow from group to group to group... then unavailable


@dataclass(frozen=True)
class Target:
    """A destination resolved from the database (None where it does not apply)."""

    kind: DestinationKind
    extension: str = ""  # user, voicemail, group
    endpoints: tuple[str, ...] = ()  # user
    ring_time: int = 30  # user
    number: str = ""  # external, answering_service
    trunk: str | None = None  # external, answering_service


@dataclass(frozen=True)
class GroupFacts:
    id: int
    extension: str
    organization: str
    queue_name: str
    max_wait: int
    logged_in: int  # logged-in members that have a device
    night_manual: bool
    schedule: tuple[OpenInterval, ...]
    holidays: tuple[ClosedDay, ...]
    timezone: str
    overflow: Target | None
    night: Target | None
    callerid_num: str = ""  # presented when a destination is outside (caller's own number, else main)


@dataclass(frozen=True)
class GroupRoute:
    action: GroupAction
    dial: str = ""
    timeout: int = 0
    callerid_num: str = ""
    queue: str = ""
    voicemail: str = ""  # <extension>@<organization>
    goto: str = ""  # a group extension
    overflow: GroupRoute | None = None
    organization: str = ""  # PBX_ORG: a call from the carrier takes its organization from here
    reason: str = field(default="", compare=False)

    def variables(self, prefix: str = "PBX_") -> dict[str, str]:
        """Channel variables; every value is checked so none can inject (PBX_ROUTE is the action,
        the overflow's go under PBX_OVERFLOW_*)."""
        out = contract.variables(
            {
                contract.ROUTE: self.action,
                contract.ORG: self.organization,
                contract.DIAL: self.dial,
                contract.DIAL_TIMEOUT: self.timeout if self.dial else None,
                contract.CALLERID_NUM: self.callerid_num,
                contract.QUEUE: self.queue,
                contract.QUEUE_TIMEOUT: self.timeout if self.queue else None,
                contract.VOICEMAIL: self.voicemail,
                contract.GROUP_GOTO: self.goto,
            },
            prefix,
        )
        if self.overflow is not None:
            out.update(self.overflow.variables(contract.OVERFLOW))
        return out


UNAVAILABLE = GroupRoute("unavailable", reason="no destination")


def is_night(
    manual: bool,
    schedule: tuple[OpenInterval, ...],
    holidays: tuple[ClosedDay, ...],
    timezone: str,
    now: datetime,
) -> bool:
    """Night by the switch, or (with a schedule) on a holiday or outside every open interval, all
    in the group's timezone. Without a schedule the group is open whenever it is not switched."""
    if manual:
        return True
    if not schedule:
        return False
    local = now.astimezone(ZoneInfo(timezone))
    if any(h.date == local.date() for h in holidays):
        return True
    day = DAYS[local.weekday()]
    minute = local.hour * 60 + local.minute
    return not any(s.day == day and minutes(s.open) <= minute < minutes(s.close) for s in schedule)


def route_to(target: Target | None, organization: str, callerid_num: str, hops: int) -> GroupRoute | None:
    """A resolved destination as a route; None when it cannot be reached."""
    if target is None:
        return None
    if target.kind == "user":
        endpoints = tuple(e for e in target.endpoints if ids.ENDPOINT.fullmatch(e))
        if not endpoints:
            return None
        dial = "&".join(f"PJSIP/{e}" for e in endpoints)
        return GroupRoute("dial", dial, target.ring_time, reason="to a user")
    if target.kind == "voicemail":
        if not ids.EXTENSION.fullmatch(target.extension):
            return None
        return GroupRoute(
            "group-voicemail", voicemail=f"{target.extension}@{organization}", reason="voicemail"
        )
    if target.kind == "group":
        if hops >= MAX_GROUP_HOPS or not ids.EXTENSION.fullmatch(target.extension):
            return None
        return GroupRoute("group-goto", goto=target.extension, reason="to another group")
    # external number or external answering service: out through the trunk
    if (
        not target.trunk
        or not ids.ENDPOINT.fullmatch(target.trunk)
        or not ids.NUMBER.fullmatch(target.number)
    ):
        return None
    callerid = callerid_num if ids.NUMBER.fullmatch(callerid_num or "") else ""
    return GroupRoute("external", f"PJSIP/{target.number}@{target.trunk}", 120, callerid, reason=target.kind)


def decide_group(facts: GroupFacts, now: datetime, hops: int = 0) -> GroupRoute:
    """Where a call to the group goes now; `hops` counts the groups it went through already."""
    return replace(_decide(facts, now, hops), organization=facts.organization)


def _decide(facts: GroupFacts, now: datetime, hops: int) -> GroupRoute:
    org, cid = facts.organization, facts.callerid_num
    overflow = route_to(facts.overflow, org, cid, hops)
    if is_night(facts.night_manual, facts.schedule, facts.holidays, facts.timezone, now):
        night = route_to(facts.night, org, cid, hops) or overflow
        if night is None:
            return GroupRoute("unavailable", reason="night, no destination")
        return replace(night, reason=f"night: {night.reason}")
    if facts.logged_in == 0:
        if overflow is None:
            return GroupRoute("unavailable", reason="nobody logged in, no overflow")
        return replace(overflow, reason=f"nobody logged in: {overflow.reason}")
    return GroupRoute(
        "queue",
        queue=facts.queue_name,
        timeout=facts.max_wait,
        overflow=overflow or UNAVAILABLE,
        reason="queue",
    )
