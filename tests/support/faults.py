"""What the real-fault tests share: an API watcher that times every request while a fault is on,
and counting SIPp's calls (the figures go through tests/support/counted.py)."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from tests.support.counted import counts
from tests.support.ports import TEST_PORT_BASE
from tests.support.sipp import SippRun, header

__all__ = [
    "HANG_S",
    "ApiWatch",
    "calls_answered",
    "calls_completed",
    "calls_ended_by_far_end",
    "counts",
    "phone_ports",
]

# SIPp ports of the fault and attack tests (media at SIP + 10000): base+7000 up, above the ranges the
# other e2e tests take from base+2000 to base+7000 (the layout: tests/support/workers.py).
phone_ports = itertools.count(TEST_PORT_BASE + 7000, 10)

HANG_S = 2.0  # an API request not answered by then "hung" (the promise is a second, or 503)


@dataclass
class ApiWatch:
    """Requests `paths` one after the other (with `token`) until stopped, timing each one; a
    request not answered within HANG_S is a hang. Use as a context manager around the fault."""

    base: str
    token: str
    paths: list[str]
    statuses: list[int] = field(default_factory=list)
    slowest_s: float = 0.0
    hung: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _one(self, path: str) -> None:
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})  # noqa: S310
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=HANG_S * 2) as r:  # noqa: S310
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        except OSError as e:  # timed out, refused: a hang for a client
            self.hung.append(f"{path}: {type(e).__name__}")
            return
        took = time.monotonic() - started
        self.slowest_s = max(self.slowest_s, took)
        self.statuses.append(status)
        if took > HANG_S:
            self.hung.append(f"{path}: {took:.2f}s")
        if status >= 400:  # every refusal carries the JSON error body
            assert "error" in json.loads(body), (path, status, body)

    def _loop(self) -> None:
        while not self._stop.is_set():
            for path in self.paths:
                self._one(path)
            time.sleep(0.05)

    def __enter__(self) -> ApiWatch:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(HANG_S * 3)


def calls_completed(run: SippRun) -> int:
    """Calls of a SIPp run that were answered and hung up cleanly (a 200 to the caller's BYE)."""
    return len(
        {
            header(m, "Call-ID")
            for m in run.received("SIP/2.0 200")
            if (header(m, "CSeq") or "").endswith("BYE")
        }
    )


def calls_ended_by_far_end(run: SippRun) -> int:
    """Calls of a SIPp run that the other side hung up while the call was up (a BYE it answered 200)."""
    return len(
        {header(m, "Call-ID") for m in run.sent("SIP/2.0 200") if (header(m, "CSeq") or "").endswith("BYE")}
    )


def calls_answered(run: SippRun) -> int:
    """Calls of a SIPp run that got a 200 to their INVITE."""
    return len(
        {
            header(m, "Call-ID")
            for m in run.received("SIP/2.0 200")
            if (header(m, "CSeq") or "").endswith("INVITE")
        }
    )
