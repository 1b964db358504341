"""How one user's part in a call ended: the same table as pbx_history_outcome() in
sql/007_history.sql, which the trigger uses (tests check that both agree).

direction: "out" (the user placed the call) or "in" (it was for them, or their devices rang).
answered_mine: one of the user's own devices answered. answered_other: another party answered
(the callee for a call out; a colleague or a forward's target for a call in). voicemail_mine: the
call ended in the user's voicemail box (for a call out: in the callee's). call_was_for_me: the user
was the one dialled (their extension or DID), not a group member rung on the group's behalf.
"""

from __future__ import annotations

from typing import Literal

Direction = Literal["in", "out"]
Result = Literal["answered", "not_answered", "answered_elsewhere", "voicemail", "diverted", "missed"]
RESULTS: tuple[Result, ...] = (
    "answered",
    "not_answered",
    "answered_elsewhere",
    "voicemail",
    "diverted",
    "missed",
)


def outcome(
    direction: Direction,
    *,
    answered_mine: bool,
    answered_other: bool,
    voicemail_mine: bool,
    call_was_for_me: bool,
) -> Result:
    if direction == "out":
        if answered_other:
            return "answered"
        return "voicemail" if voicemail_mine else "not_answered"
    if answered_mine:
        return "answered"
    if voicemail_mine:
        return "voicemail"
    if answered_other:
        # a call for me that someone else took (activity, closed phone, forward) is one I missed;
        # a group call a colleague took is not
        return "diverted" if call_was_for_me else "answered_elsewhere"
    return "missed"


def is_missed(direction: Direction, result: Result) -> bool:
    return direction == "in" and result in ("missed", "voicemail", "diverted")
