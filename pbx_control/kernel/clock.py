"""The one source of "now" for everything about time of day, dates, working days and expiry.

A Clock returns an aware datetime in UTC. The service is built with `system_clock`; tests build it
with a fixed instant, so what depends on the hour (end times, spoken sentences, night mode) holds
at any hour. Record timestamps written by PostgreSQL (created_at, set_at) stay on its own clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)
