"""How one user's part in a call maps to a history row: direction, result, missed, voicemail.
The same table runs against the SQL function the trigger uses (tests/integration/test_history_queries.py)."""

from __future__ import annotations

import pytest

from pbx_control.history.outcome import Direction, Result, is_missed, outcome

pytestmark = [pytest.mark.unit, pytest.mark.history]

# direction, answered_mine, answered_other, voicemail_mine, call_was_for_me -> result, missed
TABLE: list[tuple[Direction, bool, bool, bool, bool, Result, bool]] = [
    # placed
    ("out", False, True, False, False, "answered", False),  # the callee answered
    ("out", False, False, True, False, "voicemail", False),  # ended in the callee's voicemail
    ("out", False, False, False, False, "not_answered", False),  # nobody answered, busy, 404, cancelled
    ("out", False, True, True, False, "answered", False),  # answered, then (transfer) a box: answered
    # received
    ("in", True, False, False, True, "answered", False),  # my phone answered
    ("in", True, True, False, True, "answered", False),  # mine answered (a colleague also took part)
    ("in", True, False, False, False, "answered", False),  # a group call I took
    ("in", False, True, False, False, "answered_elsewhere", False),  # a colleague took the group call
    ("in", False, True, False, True, "diverted", True),  # forwarded (activity, closed, forward) and taken
    ("in", False, False, True, True, "voicemail", True),  # ended in my voicemail (also: closed phone)
    ("in", False, False, True, False, "voicemail", True),  # a group's overflow into my box
    ("in", False, False, False, True, "missed", True),  # rang, nobody answered, no box
    ("in", False, False, False, False, "missed", True),  # a group call nobody answered
]


@pytest.mark.parametrize(("direction", "mine", "other", "vm", "for_me", "result", "missed"), TABLE)
def test_outcome(
    direction: Direction, mine: bool, other: bool, vm: bool, for_me: bool, result: Result, missed: bool
) -> None:
    got = outcome(
        direction, answered_mine=mine, answered_other=other, voicemail_mine=vm, call_was_for_me=for_me
    )
    assert got == result
    assert is_missed(direction, got) is missed
