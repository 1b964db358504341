"""Failed-login throttling, in memory per process.

Every login attempt is counted against its username and its client address *before* the password
is checked, and a success takes its own count back (and clears the username's). So once a username
or an address has `max_per_user` / `max_per_address` attempts that did not succeed within the last
`window_s` seconds, the next attempt is refused at once (429, Retry-After), without bcrypt: a flood
costs nothing, and concurrent attempts cannot slip past the bound while their hashes run.

The counts live in this process only (a restart forgets them; several API processes each count
their own). Time comes from the injected clock. At most `max_keys` usernames and addresses are
tracked: beyond that, expired entries are dropped first, then the oldest.
"""

from __future__ import annotations

import contextlib
import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from pbx_control.kernel.clock import Clock


@dataclass(frozen=True)
class Attempt:
    """A counted attempt: hand it back to `succeeded` when the password matched."""

    user_key: str
    address: str
    at: datetime


class LoginThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        max_per_user: int = 5,
        max_per_address: int = 20,
        window_s: float = 900.0,
        max_keys: int = 100_000,
    ) -> None:
        self._clock = clock
        self.max_per_user = max(1, max_per_user)
        self.max_per_address = max(1, max_per_address)
        self.window_s = float(window_s)
        self._max_keys = max_keys
        self._users: dict[str, deque[datetime]] = {}
        self._addresses: dict[str, deque[datetime]] = {}

    @staticmethod
    def user_key(username: object) -> str:
        """The username as login looks it up (trimmed, lowercase, at most 100 characters)."""
        return username.strip().lower()[:100] if isinstance(username, str) else ""

    def begin(self, username: object, address: str) -> Attempt | float:
        """Count an attempt; or, when the username or the address is over its bound, the seconds
        until the next attempt may be made (nothing is counted then)."""
        now = self._clock()
        key = self.user_key(username)
        waits = [
            self._wait(self._users, key, self.max_per_user, now),
            self._wait(self._addresses, address, self.max_per_address, now),
        ]
        wait = max(waits)
        if wait > 0:
            return wait
        for table, k in ((self._users, key), (self._addresses, address)):
            if k not in table:
                self._make_room(table, now)
                table[k] = deque()
            table[k].append(now)
        return Attempt(key, address, now)

    def succeeded(self, attempt: Attempt) -> None:
        """The password matched: the username starts again from nothing, the address loses this
        attempt (its other failures still count)."""
        self._users.pop(attempt.user_key, None)
        self._take_back(self._addresses, attempt.address, attempt.at)

    def cancel(self, attempt: Attempt) -> None:
        """The attempt checked no password (bad input, database down): it does not count."""
        self._take_back(self._users, attempt.user_key, attempt.at)
        self._take_back(self._addresses, attempt.address, attempt.at)

    @staticmethod
    def _take_back(table: dict[str, deque[datetime]], key: str, at: datetime) -> None:
        times = table.get(key)
        if times is None:
            return
        with contextlib.suppress(ValueError):
            times.remove(at)
        if not times:
            del table[key]

    def failures(self, username: object) -> int:
        times = self._users.get(self.user_key(username))
        return len(times) if times is not None else 0

    def _wait(self, table: dict[str, deque[datetime]], key: str, limit: int, now: datetime) -> float:
        times = table.get(key)
        if times is None:
            return 0.0
        while times and (now - times[0]).total_seconds() >= self.window_s:
            times.popleft()
        if not times:
            del table[key]
            return 0.0
        if len(times) < limit:
            return 0.0
        # Free again when the oldest attempt that keeps it at the limit leaves the window.
        oldest = times[len(times) - limit]
        return max(self.window_s - (now - oldest).total_seconds(), 0.001)

    def _make_room(self, table: dict[str, deque[datetime]], now: datetime) -> None:
        if len(table) < self._max_keys:
            return
        for k in [k for k, t in table.items() if not t or (now - t[-1]).total_seconds() >= self.window_s]:
            del table[k]
        while len(table) >= self._max_keys:
            del table[next(iter(table))]


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
