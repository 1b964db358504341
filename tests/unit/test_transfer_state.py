"""The announced transfer's state machine, as a table."""

from __future__ import annotations

import pytest

from pbx_control.callcontrol.transfer_state import FINAL, Action, Input, State, step

pytestmark = [pytest.mark.unit, pytest.mark.calls]

R, A = State.RINGBACK, State.ANSWERED

TABLE = [
    # state, input, detail, new state, action, event, reason
    (State.READY, Input.STARTED, "", R, Action.NONE, "started", None),
    (State.READY, Input.TRANSFEREE_HUNGUP, "", State.ABANDONED, Action.NONE, "abandoned", None),
    (R, Input.ANSWERED, "", A, Action.NONE, "answered", None),
    (R, Input.RETURNED, "BUSY", State.DECLINED, Action.NONE, "declined", "busy"),
    (R, Input.RETURNED, "NOANSWER", State.DECLINED, Action.NONE, "declined", "no_answer"),
    (R, Input.RETURNED, "CHANUNAVAIL", State.DECLINED, Action.NONE, "declined", "unavailable"),
    (R, Input.RETURNED, "unavailable", State.DECLINED, Action.NONE, "declined", "unavailable"),
    (R, Input.RETURNED, "whatever", State.DECLINED, Action.NONE, "declined", "unavailable"),
    (R, Input.COMPLETE, "", State.COMPLETED, Action.BLIND, "completed", "blind"),
    (R, Input.CANCEL, "", State.CANCELLED, Action.STOP_RINGING, "cancelled", "cancelled"),
    (R, Input.INITIATOR_HUNGUP, "", State.COMPLETED, Action.NONE, "completed", "blind"),
    (R, Input.TRANSFEREE_HUNGUP, "", State.ABANDONED, Action.NONE, "abandoned", None),
    (A, Input.COMPLETE, "", State.COMPLETED, Action.JOIN, "completed", "completed"),
    (A, Input.CANCEL, "", State.CANCELLED, Action.HANGUP_RECIPIENT, "cancelled", "cancelled"),
    (A, Input.RETURNED, "ANSWER", State.CANCELLED, Action.NONE, "cancelled", "recipient_hangup"),
    (A, Input.INITIATOR_HUNGUP, "", State.COMPLETED, Action.NONE, "completed", "completed"),
    (A, Input.TRANSFEREE_HUNGUP, "", State.ABANDONED, Action.NONE, "abandoned", None),
    # AMI reconnected and a party's channel is gone (Asterisk restarted): no ghost transfer.
    (State.READY, Input.GONE, "", State.ABANDONED, Action.NONE, "abandoned", "channel_gone"),
    (R, Input.GONE, "", State.ABANDONED, Action.NONE, "abandoned", "channel_gone"),
    (A, Input.GONE, "", State.ABANDONED, Action.NONE, "abandoned", "channel_gone"),
]


@pytest.mark.parametrize(("state", "given", "detail", "new", "action", "event", "reason"), TABLE)
def test_transitions(
    state: State, given: Input, detail: str, new: State, action: Action, event: str, reason: str | None
) -> None:
    found = step(state, given, detail)
    assert found is not None
    assert (found.state, found.action, found.event, found.reason) == (new, action, event, reason)


def test_nothing_else_applies() -> None:
    listed = {(row[0], row[1]) for row in TABLE}
    for state in State:
        for given in Input:
            if (state, given) not in listed:
                assert step(state, given) is None, (state, given)


def test_a_finished_transfer_takes_no_input() -> None:
    assert all(step(state, given) is None for state in FINAL for given in Input)


def test_ready_takes_no_api_operation() -> None:
    # Under the call's lock a transfer is READY only until Asterisk took the redirect.
    assert step(State.READY, Input.COMPLETE) is None and step(State.READY, Input.CANCEL) is None
