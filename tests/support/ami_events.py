"""Record Asterisk's AMI events during an end-to-end test (a plain socket in a thread).

with AmiEvents(port, username, secret) as ami:
    ... place a call ...
    ami.wait_for(lambda e: e.get("Application") == "Playback")
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType

Event = dict[str, str]


class AmiEvents:
    def __init__(self, port: int, username: str, secret: str, host: str = "127.0.0.1") -> None:
        self._addr = (host, port)
        self._login = f"Action: Login\r\nUsername: {username}\r\nSecret: {secret}\r\nEvents: on\r\n\r\n"
        self.events: list[Event] = []
        self._lock = threading.Condition()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._action_ids = itertools.count(1)

    def __enter__(self) -> AmiEvents:
        self._sock = socket.create_connection(self._addr, timeout=5)
        self._sock.sendall(self._login.encode())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        self.wait_for(lambda e: e.get("Response") == "Success", what="AMI login")
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._sock is not None:
            self._sock.close()

    def _read(self) -> None:
        assert self._sock is not None
        self._sock.settimeout(None)
        buffer = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\r\n\r\n" in buffer:
                block, buffer = buffer.split(b"\r\n\r\n", 1)
                event: Event = {}
                for line in block.decode(errors="replace").split("\r\n"):
                    key, sep, value = line.partition(": ")
                    if sep:
                        event.setdefault(key, value)
                with self._lock:
                    self.events.append(event)
                    self._lock.notify_all()

    def find(self, match: Callable[[Event], bool]) -> list[Event]:
        with self._lock:
            return [e for e in self.events if match(e)]

    def wait_for(self, match: Callable[[Event], bool], timeout_s: float = 10, what: str = "event") -> Event:
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while True:
                for e in self.events:
                    if match(e):
                        return e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {what} within {timeout_s}s; last events: {self.events[-5:]}")
                self._lock.wait(left)

    def action(self, action: str, timeout_s: float = 5, **headers: str) -> Event:
        """Send an AMI action on this login and wait for its response."""
        assert self._sock is not None
        action_id = f"test-{next(self._action_ids)}"
        lines = [f"Action: {action}", f"ActionID: {action_id}", *(f"{k}: {v}" for k, v in headers.items())]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self.wait_for(
            lambda e: e.get("ActionID") == action_id and "Response" in e, timeout_s, what=f"{action} response"
        )

    def apps(self, channel_prefix: str = "") -> list[tuple[str, str]]:
        """(Application, AppData) of each dialplan step run (Newexten events), in order."""
        return [
            (e["Application"], e.get("AppData", ""))
            for e in self.find(
                lambda e: e.get("Event") == "Newexten" and e.get("Channel", "").startswith(channel_prefix)
            )
        ]
