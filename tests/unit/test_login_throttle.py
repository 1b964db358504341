"""The failed-login throttle as a table of moves (pbx_control/auth/throttle.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pbx_control.auth.throttle import Attempt, LoginThrottle, retry_after
from tests.support.clock import DEFAULT, FixedClock

pytestmark = [pytest.mark.unit, pytest.mark.security]


def _throttle(clock: FixedClock, **kw: int) -> LoginThrottle:
    return LoginThrottle(
        clock, max_per_user=kw.get("user", 3), max_per_address=kw.get("address", 5), window_s=60
    )


def test_bound_per_user_and_the_wait_until_the_oldest_leaves() -> None:
    clock = FixedClock(DEFAULT)
    t = _throttle(clock)
    for _ in range(3):
        assert isinstance(t.begin("Anna ", "10.0.0.1"), Attempt)
        clock.advance(timedelta(seconds=10))
    wait = t.begin("anna", "10.0.0.2")
    assert not isinstance(wait, Attempt)
    assert wait == pytest.approx(30.0) and retry_after(wait) == "30"  # the first one was 30 s ago
    clock.advance(timedelta(seconds=30))
    assert isinstance(t.begin("anna", "10.0.0.2"), Attempt)


def test_success_clears_the_user_and_takes_back_its_own_address_attempt() -> None:
    clock = FixedClock(DEFAULT)
    t = _throttle(clock, user=3, address=3)
    t.begin("bo", "10.0.0.1")
    t.begin("bo", "10.0.0.1")
    ok = t.begin("bo", "10.0.0.1")
    assert isinstance(ok, Attempt)
    t.succeeded(ok)
    assert t.failures("bo") == 0
    assert isinstance(t.begin("cy", "10.0.0.1"), Attempt)  # address: 2 failures + this one
    assert isinstance(t.begin("cy", "10.0.0.1"), float)


def test_cancel_does_not_count_and_keys_are_bounded() -> None:
    clock = FixedClock(DEFAULT)
    t = LoginThrottle(clock, max_per_user=1, max_per_address=1000, window_s=60, max_keys=10)
    a = t.begin("dee", "10.0.0.1")
    assert isinstance(a, Attempt)
    t.cancel(a)
    assert t.failures("dee") == 0
    for i in range(50):
        assert isinstance(t.begin(f"user{i}", "10.0.0.1"), Attempt)
    assert len(t._users) <= 10
    assert retry_after(0.001) == "1"
