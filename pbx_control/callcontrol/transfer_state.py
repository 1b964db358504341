"""The announced transfer's states and transitions: a pure function, tested as a table.

Parties: the initiator (the user's channel), the transferee (the other party, held) and the
recipient (rung from the initiator's channel). The dialplan does what follows a hang-up by itself
(extensions_callcontrol.conf, [pbx-xfer-*]); the service asks Asterisk for what the API asks
(`Action`) and follows what happened (the other inputs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    READY = "ready"  # accepted, Asterisk not yet asked
    RINGBACK = "ringback"  # transferee held, recipient ringing (or being routed)
    ANSWERED = "answered"  # initiator talks to the recipient
    COMPLETED = "completed"  # transferee and recipient connected (or sent there, blind)
    CANCELLED = "cancelled"  # initiator back with the transferee
    DECLINED = "declined"  # the recipient declined, did not answer or cannot be reached
    ABANDONED = "abandoned"  # the transferee hung up, or a party's channel is gone (reason channel_gone)


FINAL = frozenset({State.COMPLETED, State.CANCELLED, State.DECLINED, State.ABANDONED})


class Input(StrEnum):
    STARTED = "started"  # Asterisk took the redirect
    ANSWERED = "answered"  # the recipient answered (DialEnd ANSWER on the initiator)
    RETURNED = "returned"  # the initiator's channel came back to the transferee (dialplan)
    COMPLETE = "complete"  # API
    CANCEL = "cancel"  # API
    INITIATOR_HUNGUP = "initiator_hungup"
    TRANSFEREE_HUNGUP = "transferee_hungup"
    # AMI reconnected (Asterisk restarted, or the connection dropped) and the initiator's or the
    # transferee's channel is not among the channels Asterisk has now: what happened to it was
    # never seen, the transfer is over.
    GONE = "gone"


class Action(StrEnum):
    NONE = "none"
    JOIN = "join"  # redirect the recipient into a bridge with the transferee
    BLIND = "blind"  # send the transferee to the recipient's number, free the initiator
    STOP_RINGING = "stop_ringing"  # redirect the initiator back to the transferee
    HANGUP_RECIPIENT = "hangup_recipient"  # the dialplan then brings the initiator back


@dataclass(frozen=True)
class Step:
    state: State
    action: Action = Action.NONE
    event: str | None = None  # the transfer.<event> published, None: nothing to tell
    reason: str | None = None


API_INPUTS = frozenset({Input.COMPLETE, Input.CANCEL})

_TABLE: dict[tuple[State, Input], Step] = {
    (State.READY, Input.STARTED): Step(State.RINGBACK, event="started"),
    (State.READY, Input.TRANSFEREE_HUNGUP): Step(State.ABANDONED, event="abandoned"),
    (State.RINGBACK, Input.ANSWERED): Step(State.ANSWERED, event="answered"),
    (State.RINGBACK, Input.RETURNED): Step(State.DECLINED, event="declined"),
    (State.RINGBACK, Input.COMPLETE): Step(State.COMPLETED, Action.BLIND, "completed", "blind"),
    (State.RINGBACK, Input.CANCEL): Step(State.CANCELLED, Action.STOP_RINGING, "cancelled", "cancelled"),
    # The dialplan's h extension sends the transferee to the recipient: a blind transfer.
    (State.RINGBACK, Input.INITIATOR_HUNGUP): Step(State.COMPLETED, event="completed", reason="blind"),
    (State.RINGBACK, Input.TRANSFEREE_HUNGUP): Step(State.ABANDONED, event="abandoned"),
    (State.ANSWERED, Input.COMPLETE): Step(State.COMPLETED, Action.JOIN, "completed", "completed"),
    (State.ANSWERED, Input.CANCEL): Step(State.CANCELLED, Action.HANGUP_RECIPIENT, "cancelled", "cancelled"),
    (State.ANSWERED, Input.RETURNED): Step(State.CANCELLED, event="cancelled", reason="recipient_hangup"),
    # Dial's F option sends the recipient into a bridge with the transferee.
    (State.ANSWERED, Input.INITIATOR_HUNGUP): Step(State.COMPLETED, event="completed", reason="completed"),
    (State.ANSWERED, Input.TRANSFEREE_HUNGUP): Step(State.ABANDONED, event="abandoned"),
    (State.READY, Input.GONE): Step(State.ABANDONED, event="abandoned", reason="channel_gone"),
    (State.RINGBACK, Input.GONE): Step(State.ABANDONED, event="abandoned", reason="channel_gone"),
    (State.ANSWERED, Input.GONE): Step(State.ABANDONED, event="abandoned", reason="channel_gone"),
}

# Why the initiator came back during ringback: the dialplan's reason -> the app's.
_DECLINE_REASONS = {
    "BUSY": "busy",
    "NOANSWER": "no_answer",
    "CHANUNAVAIL": "unavailable",
    "CONGESTION": "unavailable",
    "unavailable": "unavailable",
}


def decline_reason(dialplan_reason: str) -> str:
    return _DECLINE_REASONS.get(dialplan_reason, "unavailable")


def step(state: State, given: Input, detail: str = "") -> Step | None:
    """The next state for `given` in `state`; None when it does not apply (for an API input: 409).
    `detail` is the dialplan's reason of a RETURNED input."""
    found = _TABLE.get((state, given))
    if found is None:
        return None
    if state is State.RINGBACK and given is Input.RETURNED:
        return Step(found.state, found.action, found.event, decline_reason(detail))
    return found
