"""Meeting PINs: making them, and slowing down whoever keeps guessing them.

A PIN is 6 or more random digits (secrets, not random). Failed PIN entries are counted per caller
(their number, or the channel's address for outside callers) and per room's dial-in (the
organization). After `free` failures within `window_s`, the next try may only be checked
`base_s` after the last failure, doubling per failure, at most `max_s`; a try made sooner is not
checked at all (the dialplan waits that long before it asks again). So a script dialling in pays
for every guess beyond the first few, whichever caller ids it uses: the organization's count slows
them all.
"""

from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from pbx_control.kernel.clock import Clock

PIN_DIGITS = 6
MAX_TRIES = 3  # per call; then the call ends


def new_pin(digits: int = PIN_DIGITS) -> str:
    """`digits` random digits (never starting with 0, so phones and people keep them whole)."""
    return str(secrets.choice("123456789")) + "".join(secrets.choice("0123456789") for _ in range(digits - 1))


def delay_for(failures: int, *, free: int, base_s: float, max_s: float) -> float:
    """Seconds to wait before the next try after `failures` recent failures."""
    if failures < free:
        return 0.0
    return float(min(max_s, base_s * 2 ** (failures - free)))


@dataclass(frozen=True)
class ThrottlePolicy:
    free_per_caller: int = 3
    free_per_room: int = 10
    base_s: float = 2.0
    max_s: float = 30.0
    window_s: float = 600.0


class PinThrottle:
    """Failures per caller and per room, in memory of this process; time from the clock."""

    def __init__(
        self, clock: Clock, policy: ThrottlePolicy = ThrottlePolicy(), max_keys: int = 50_000
    ) -> None:
        self._clock = clock
        self.policy = policy
        self._max_keys = max_keys
        self._fails: dict[str, deque[datetime]] = {}

    def _wait(self, key: str, free: int, now: datetime) -> float:
        """What is left of the wait that the key's recent failures impose since the last one."""
        times = self._fails.get(key)
        if times is None:
            return 0.0
        while times and (now - times[0]).total_seconds() >= self.policy.window_s:
            times.popleft()
        if not times:
            del self._fails[key]
            return 0.0
        p = self.policy
        wait = delay_for(len(times), free=free, base_s=p.base_s, max_s=p.max_s)
        return max(0.0, wait - (now - times[-1]).total_seconds())

    def delay(self, caller: str, room: str) -> float:
        """Seconds before this caller's next PIN for this room may be checked."""
        now = self._clock()
        return max(
            self._wait("c:" + caller, self.policy.free_per_caller, now),
            self._wait("r:" + room, self.policy.free_per_room, now),
        )

    def failed(self, caller: str, room: str) -> None:
        now = self._clock()
        for key in ("c:" + caller, "r:" + room):
            if key not in self._fails:
                if len(self._fails) >= self._max_keys:
                    del self._fails[next(iter(self._fails))]
                self._fails[key] = deque()
            self._fails[key].append(now)

    def succeeded(self, caller: str) -> None:
        """A right PIN clears the caller's count (the room's stays: others may be guessing)."""
        self._fails.pop("c:" + caller, None)
