"""Where an API request's time goes: the service's own work, and the time it spent waiting for
Asterisk (AMI responses, and the events a request waits for, such as a park's ParkedCall). The
API's middleware opens a `RequestTiming` for each request; the AMI client adds every wait for a
response made within it (also in tasks the request started), `asterisk_wait` every wait for an
event; the response carries both as `Server-Timing: app;dur=<ms>, ami;dur=<ms>`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class RequestTiming:
    started: float = field(default_factory=time.perf_counter)
    ami_s: float = 0.0

    def header(self) -> str:
        """`app;dur=<ms>, ami;dur=<ms>`: app is the request's time minus its AMI waits."""
        total = time.perf_counter() - self.started
        ami = min(self.ami_s, total)
        return f"app;dur={(total - ami) * 1000:.2f}, ami;dur={ami * 1000:.2f}"


_CURRENT: ContextVar[RequestTiming | None] = ContextVar("pbx_request_timing", default=None)


def begin_request() -> RequestTiming:
    timing = RequestTiming()
    _CURRENT.set(timing)
    return timing


def add_ami_wait(seconds: float) -> None:
    timing = _CURRENT.get()
    if timing is not None:
        timing.ami_s += seconds


@contextmanager
def asterisk_wait() -> Iterator[None]:
    """Count the time inside as the request's wait on Asterisk (Server-Timing `ami`)."""
    began = time.perf_counter()
    try:
        yield
    finally:
        add_ami_wait(time.perf_counter() - began)
