"""Small pieces of the AMI client without state of their own: the reconnect backoff, how a loss
is described, the call ids an event's log lines carry, and an event subscription's pattern."""

from __future__ import annotations

import fnmatch
import random
import re
from collections.abc import Callable
from typing import TypedDict

from panoramisk.message import Message

from pbx_control.ami._panoramisk import LossReason

# An event callback's result is ignored, unless it is awaitable: then it runs as its own task.
EventCallback = Callable[[Message], object]


def backoff_delay(
    attempt: int,
    *,
    initial: float = 0.5,
    maximum: float = 10.0,
    jitter: float = 0.2,
    rand: Callable[[], float] = random.random,
) -> float:
    """Delay before reconnect attempt `attempt` (0-based): initial * 2**attempt, capped, jittered."""
    base = min(maximum, initial * 2.0 ** min(attempt, 32))
    return min(maximum, base * (1 + jitter * (2 * rand() - 1)))


def describe_loss(exc: LossReason) -> str:
    if exc is None:
        return "connection closed by Asterisk"
    if isinstance(exc, Message):  # panoramisk passes the Shutdown event itself
        return f"Asterisk is shutting down ({exc.get('Shutdown', '')}, restart={exc.get('Restart', '')})"
    if isinstance(exc, BaseException):
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return str(exc)


def call_ids(event: Message) -> dict[str, str]:
    ids = {
        "uniqueid": event.get("Uniqueid"),
        "linkedid": event.get("Linkedid"),
        "organization": event.get("AccountCode"),
    }
    return {key: value for key, value in ids.items() if isinstance(value, str) and value}


class Backoff(TypedDict):
    initial: float
    maximum: float
    jitter: float


class EventSubscription:
    def __init__(self, pattern: str, callback: EventCallback) -> None:
        self.pattern = pattern
        self.callback = callback
        self._regex = None if pattern == "*" else re.compile(fnmatch.translate(pattern), re.IGNORECASE)

    def matches(self, name: str) -> bool:
        return self._regex is None or self._regex.match(name) is not None
