"""Floods that must hurt nobody else (issue 13): half-open FastAGI connections held open while
calls are routed, and WebSocket clients that never read while another client follows the calls.
Each test prints its counts."""

from __future__ import annotations

import itertools
import select
import socket
import threading
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.calls import until
from tests.support.events_ws import EventSocket
from tests.support.faults import calls_completed, counts, phone_ports
from tests.support.provision import PASSWORD, Org, User, new_org
from tests.support.sipp import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

N_CALLS = 10
HALF_OPEN = 300  # connections held open at once, each reopened as soon as the server drops it
SLOW_CLIENTS = 5
SETTLE_S = 0.3
_ports = phone_ports


def phone(e2e: E2E, user: User) -> Phone:
    d = user.devices[0]
    p = Phone(d.sip_username, d.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    p.register()
    return p


class HalfOpenFlood:
    """Keeps `n` connections to the FastAGI port open: half send the start of a header and never
    its end, half send nothing at all. Counts the connections made."""

    def __init__(self, port: int, n: int) -> None:
        self.port, self.n = port, n
        self.opened = 0
        self._socks: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        if self.opened % 2:
            s.sendall(b"agi_network: yes\nagi_network_script: route\nagi_request: agi://127.0.0.1/route\n")
        self.opened += 1
        return s

    def _run(self) -> None:
        while not self._stop.is_set():
            while len(self._socks) < self.n:
                self._socks.append(self._open())
            readable, _, _ = select.select(self._socks, [], [], 0.2)
            for s in readable:  # closed by the server (header timeout): open another
                if not s.recv(4096):
                    s.close()
                    self._socks.remove(s)

    def __enter__(self) -> HalfOpenFlood:
        self._thread.start()
        until("the flood up", lambda: len(self._socks) >= self.n, 10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for s in self._socks:
            s.close()


def forwarding_org(e2e: E2E, platform: Api) -> tuple[Org, dict[str, Phone]]:
    """Anna forwards every call to Bo: only the control service knows that (the dialplan's
    fallback would ring Anna), so a call that reaches Bo was routed by the service."""
    org = new_org(platform, prefix="fld")
    anna, bo, cilla = org.add_user("1001", "Anna"), org.add_user("1002", "Bo"), org.add_user("1003", "Cilla")
    Api(e2e.control.api).login(anna.username, PASSWORD).request(
        "PUT", "/users/me/settings", {"forward_all": "1002"}, expect=200
    )
    return org, {"anna": phone(e2e, anna), "bo": phone(e2e, bo), "cilla": phone(e2e, cilla)}


def test_half_open_fastagi_connections_do_not_hold_up_calls(e2e: E2E, platform: Api) -> None:
    _org, p = forwarding_org(e2e, platform)
    health = Api(e2e.control.api)
    rejected_before = health.get("/health")["agi"]["rejected_total"]
    anna_rang = p["anna"].answer(timeout_s=20)
    with HalfOpenFlood(e2e.stack.ports.agi, HALF_OPEN) as flood:
        answering = p["bo"].answer(calls=N_CALLS, timeout_s=30)
        time.sleep(SETTLE_S)
        started = time.monotonic()
        calls = p["cilla"].call("1001", calls=N_CALLS, hold_ms=300, timeout_s=30)
        took = time.monotonic() - started
        answering.wait(30)
    anna_rang.stop()
    done = calls_completed(calls)
    agi = health.get("/health")["agi"]
    line = counts(
        "faults/fastagi-half-open-flood",
        half_open_connections=flood.opened,
        rejected_by_server=agi["rejected_total"] - rejected_before,
        calls_routed_by_the_service=f"{done}/{N_CALLS}",
        fell_back=len(anna_rang.received("INVITE")),
        seconds_for_the_calls=round(took, 1),
    )
    assert done == N_CALLS, line + calls.explain()
    assert anna_rang.received("INVITE") == [], line  # the fallback would have rung Anna
    assert agi["ok"] is True


def never_reading_client(api: Api) -> socket.socket:
    """A WebSocket upgrade to /events, then nothing read ever (a tiny receive buffer)."""
    host, port = api.base.split("//", 1)[1].split("/", 1)[0].split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    s.sendall(
        (
            f"GET /api/v1/events HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {api.token}\r\n\r\n"
        ).encode()
    )
    s.settimeout(5)
    head = b""
    while b"\r\n\r\n" not in head:  # the upgrade's answer, then never a byte more
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return s


def test_websocket_clients_that_never_read_do_not_slow_the_others(e2e: E2E, platform: Api) -> None:
    org, p = forwarding_org(e2e, platform)
    slow = [never_reading_client(org.admin) for _ in range(SLOW_CLIENTS)]
    try:
        with EventSocket(org.admin) as ws:
            answering = p["bo"].answer(calls=N_CALLS, timeout_s=30)
            time.sleep(SETTLE_S)
            calls = p["cilla"].call("1001", calls=N_CALLS, hold_ms=300, timeout_s=30)
            answering.wait(30)
            # every leg of every call seen to its end by the client that reads
            until("every leg removed", lambda: len(ws.of_type("channel.removed")) >= 2 * N_CALLS, 15)
            started = time.monotonic()
            org.admin.get("/calls")
            api_s = time.monotonic() - started
            seqs = [m["seq"] for m in ws.messages if "seq" in m and m.get("type") != "hello"]
            lost = ws.of_type("events.lost")
    finally:
        for s in slow:
            s.close()
    gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
    line = counts(
        "faults/websocket-never-reads",
        clients_never_reading=SLOW_CLIENTS,
        calls=f"{calls_completed(calls)}/{N_CALLS}",
        events_to_the_reader=len(seqs),
        gaps=gaps,
        lost=len(lost),
        api_s=round(api_s, 2),
    )
    assert calls_completed(calls) == N_CALLS, line
    assert gaps == 0 and lost == [], line
    assert api_s < 1.0, line
