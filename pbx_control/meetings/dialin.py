"""The meeting dial-in's decision: what a PIN entered on a call does. A pure function of the
meetings that PIN matches in the caller's own organization, the try, the throttle and the time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pbx_control.dialplan import contract as c
from pbx_control.meetings.pins import MAX_TRIES
from pbx_control.meetings.sentences import Say


@dataclass(frozen=True)
class DialIn:
    action: str  # meeting-join | meeting-retry | meeting-end
    reason: str
    room: str | None = None
    host: bool = False
    wait_s: int = 0
    say: Say | None = None
    ask: Say | None = "ask"
    # set by the handler: prompt keys of `say` and `ask` in the caller's language
    say_key: str | None = None
    ask_key: str | None = None

    def variables(self) -> dict[str, str]:
        return c.variables(
            {
                c.ROUTE: self.action,
                c.MEETING_ROOM: self.room,
                c.MEETING_PROFILE: ("pbx-host" if self.host else "pbx-participant") if self.room else None,
                c.MEETING_WAIT: self.wait_s if self.wait_s > 0 else None,
                c.MEETING_SAY: self.say_key,
                c.MEETING_ASK: self.ask_key,
            }
        )


def room_name(meeting_id: int) -> str:
    return f"m{meeting_id}"


def decide(pin: str, attempt: int, match: dict[str, Any] | None, wait_s: float, now: datetime) -> DialIn:
    """`match`: the organization's meeting whose PIN or host PIN is `pin` (deleted ones included),
    None when there is none; `wait_s`: the throttle's wait for this caller and dial-in. A try made
    while the caller must still wait is not checked at all."""
    if wait_s > 0:
        return _wrong(attempt, "slowed down: too many wrong PINs", wait_s)
    if match is None or not pin:
        return _wrong(attempt, "wrong PIN", 0)
    if match["deleted_at"] is not None:
        return DialIn("meeting-end", "meeting deleted", say="deleted", ask=None)
    if match["ends_at"] is not None and match["ends_at"] <= now:
        return DialIn("meeting-end", "meeting ended", say="ended", ask=None)
    # the host: by the host PIN, or by the PIN from one of the owner's own devices
    host = pin == match["host_pin"] or bool(match.get("owner_device"))
    return DialIn(
        "meeting-join",
        "host PIN" if pin == match["host_pin"] else ("PIN from the owner's device" if host else "PIN"),
        room=room_name(match["id"]),
        host=host,
        say="joined",
        ask=None,
    )


def _wrong(attempt: int, reason: str, wait_s: float) -> DialIn:
    if attempt >= MAX_TRIES:
        return DialIn("meeting-end", reason + f", try {attempt} of {MAX_TRIES}", say="goodbye", ask=None)
    return DialIn("meeting-retry", reason, wait_s=int(-(-wait_s // 1)), say="wrong")
