"""Meeting PINs and the slowing of repeated failures (pbx_control/meetings/pins.py), as tables."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pbx_control.meetings.pins import PinThrottle, ThrottlePolicy, delay_for, new_pin
from tests.support.clock import DEFAULT, FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.meetings]

# failures, free, base, max -> delay
DELAYS = [
    (0, 3, 2.0, 30.0, 0.0),
    (2, 3, 2.0, 30.0, 0.0),
    (3, 3, 2.0, 30.0, 2.0),
    (4, 3, 2.0, 30.0, 4.0),
    (6, 3, 2.0, 30.0, 16.0),
    (7, 3, 2.0, 30.0, 30.0),
    (50, 3, 2.0, 30.0, 30.0),
    (9, 10, 2.0, 30.0, 0.0),
    (10, 10, 2.0, 30.0, 2.0),
]


@pytest.mark.parametrize(("failures", "free", "base", "top", "want"), DELAYS)
def test_delay_doubles_after_the_free_tries_up_to_the_cap(
    failures: int, free: int, base: float, top: float, want: float
) -> None:
    assert delay_for(failures, free=free, base_s=base, max_s=top) == want


def test_pins_have_six_digits_and_vary() -> None:
    pins = {new_pin() for _ in range(200)}
    assert all(len(p) == 6 and p.isdigit() and p[0] != "0" for p in pins)
    assert len(pins) > 190  # 900,000 possible: repeats in 200 draws are rare


POLICY = ThrottlePolicy(free_per_caller=3, free_per_room=5, base_s=2.0, max_s=30.0, window_s=600.0)


def test_a_caller_and_a_room_are_slowed_separately() -> None:
    clock = FixedClock(DEFAULT)
    t = PinThrottle(clock, POLICY)
    # the caller's own count
    for _ in range(3):
        assert t.delay("a", "org1") == 0.0
        t.failed("a", "org1")
    assert t.delay("a", "org1") == 2.0
    t.failed("a", "org1")
    assert t.delay("a", "org1") == 4.0
    # the room: 4 failures; a new caller is free until the room has 5
    assert t.delay("b", "org1") == 0.0
    t.failed("b", "org1")
    assert t.delay("c", "org1") == 2.0  # room at 5
    assert t.delay("c", "org2") == 0.0  # another organization's dial-in
    # a right PIN clears the caller, not the room
    t.succeeded("a")
    assert t.delay("a", "org1") == 2.0
    assert t.delay("a", "org9") == 0.0
    # the wait runs from the last failure
    clock.advance(timedelta(seconds=1.5))
    assert t.delay("a", "org1") == pytest.approx(0.5)
    clock.advance(timedelta(seconds=1))
    assert t.delay("a", "org1") == 0.0
    # failures leave the window
    clock.advance(timedelta(seconds=601))
    assert t.delay("b", "org1") == 0.0 and t.delay("c", "org1") == 0.0


def test_tracked_keys_are_bounded() -> None:
    t = PinThrottle(FixedClock(DEFAULT), POLICY, max_keys=10)
    for i in range(100):
        t.failed(f"caller{i}", "org1")
    assert len(t._fails) <= 11
