"""The dialplan's fallback, when the control service does not route a call (down, frozen, a route
the dialplan does not know, a FastAGI header it could not read): numbers ring from PostgreSQL, a
call from the carrier never leaves through the trunk again, and blocked callers stay blocked.
"""

from __future__ import annotations

import itertools
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import CARRIER_PORT, E2E
from tests.support import sipp_scenarios
from tests.support.api import Api
from tests.support.provision import PASSWORD, Org, User, new_org
from tests.support.sipp import Phone, SippRun, header

pytestmark = [pytest.mark.e2e, pytest.mark.routing]

SETTLE_S = 0.3  # let a SIPp UAS bind its port before a call is placed
BLOCKED = "+46701112233"
_dids = itertools.count(1)


def assert_ok(run: SippRun) -> None:
    assert run.returncode == 0, run.explain()


@dataclass
class Callee:
    org: Org
    anna: User
    did: str
    phone: Phone
    api: Api


def callee(e2e: E2E, platform: Api) -> Callee:
    """Anna, with a number (DID) and a registered phone, who blocked BLOCKED and anonymous callers."""
    org = new_org(platform, prefix="fb", main_number="+46812349700")
    anna = org.add_user("1001", "Anna")
    did = f"+46858{next(_dids):06d}"
    org.add_number(did, anna)
    phone = e2e.phone(anna.devices[0].sip_username, anna.devices[0].sip_password)
    phone.register()
    api = Api(e2e.control.api).login(anna.username, PASSWORD)
    api.post("/users/me/caller-lists", {"number": BLOCKED, "kind": "blocked"}, expect=201)
    api.request("PUT", "/users/me/settings", {"block_anonymous": True}, expect=200)
    return Callee(org, anna, did, phone, api)


def not_rung(run: SippRun) -> None:
    run.wait(15)
    assert run.received("INVITE") == [], "the phone rang"


@contextmanager
def control_down(e2e: E2E) -> Iterator[None]:
    e2e.control.stop()
    try:
        yield
    finally:
        e2e.control.start()


class FakeFastAgi:
    """Stands in for the control service on its FastAGI port: every session sets `variables`."""

    def __init__(self, port: int, variables: dict[str, str]) -> None:
        self.sessions = 0
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake.sessions += 1
                while self.rfile.readline() not in (b"\n", b""):
                    pass
                for name, value in variables.items():
                    self.wfile.write(f'SET VARIABLE {name} "{value}"\n'.encode())
                    self.rfile.readline()

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeFastAgi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# The carrier's side calling us, on a port whose media ports (+10000, +10002) are not those of its
# answering side (CARRIER_PORT), which may be waiting at the same time.
CARRIER_CALLS_FROM = CARRIER_PORT + 4


def from_carrier(e2e: E2E, did: str, caller: str, expect: int = 200) -> SippRun:
    return e2e.carrier(CARRIER_CALLS_FROM).call(did, expect=expect, auth=False, from_user=caller)


# -- the fallback rings ----------------------------------------------------------------------------


def test_a_number_rings_its_user_from_the_database_when_the_control_service_is_down(
    e2e: E2E, platform: Api
) -> None:
    c = callee(e2e, platform)
    with control_down(e2e):
        answering = c.phone.answer()
        time.sleep(SETTLE_S)
        assert_ok(from_carrier(e2e, c.did, "+46709998877"))
        assert answering.wait(10) == 0, answering.explain()
        assert_ok(from_carrier(e2e, "+46858999999", "+46709998877", expect=404))  # not ours


def test_a_device_calls_out_through_the_trunk_when_the_control_service_is_down(
    e2e: E2E, platform: Api
) -> None:
    c = callee(e2e, platform)
    with control_down(e2e):
        carrier = e2e.carrier().answer()
        time.sleep(SETTLE_S)
        assert_ok(c.phone.call("0701234567"))
        assert carrier.wait(10) == 0, carrier.explain()
        invite = carrier.received("INVITE")[0]
        assert invite.startswith("INVITE sip:0701234567@")
        assert "sip:+46812349700@" in (header(invite, "From") or "")  # the organization's number


@pytest.mark.security
def test_the_fallback_refuses_international_and_premium_numbers_but_lets_emergency_calls_out(
    e2e: E2E, platform: Api
) -> None:
    """With the control service down no call policy is applied: the fallback lets devices call
    only national numbers and emergency numbers out; international and premium are 403."""
    c = callee(e2e, platform)
    c.org.add_user("112", "Extension named like the emergency number")
    with control_down(e2e):
        carrier = e2e.carrier().answer(timeout_s=8)
        time.sleep(SETTLE_S)
        for number in ("+4420794601234", "0044207946012", "0900123456", "+46939123456", "0944123456"):
            assert_ok(c.phone.call(number, expect=403))
        carrier.wait(10)
        assert carrier.received("INVITE") == [], "a refused number went out through the trunk"
        for emergency in ("112", "11414"):
            carrier = e2e.carrier().answer()
            time.sleep(SETTLE_S)
            assert_ok(c.phone.call(emergency))
            assert carrier.wait(10) == 0, carrier.explain()
            assert carrier.received("INVITE")[0].startswith(f"INVITE sip:{emergency}@")


# -- nothing from the carrier goes back out --------------------------------------------------------


@pytest.mark.security
def test_an_unknown_route_on_an_inbound_call_never_leaves_through_the_trunk(e2e: E2E, platform: Api) -> None:
    """A newer control service (say, mid-upgrade) answers with a route this dialplan does not know:
    the call falls back, and a number of ours rings its user; it is never dialled out again."""
    c = callee(e2e, platform)
    with (
        control_down(e2e),
        FakeFastAgi(e2e.stack.ports.agi, {"PBX_ROUTE": "no-such-route", "PBX_ORG": c.org.slug}) as agi,
    ):
        carrier = e2e.carrier().answer(timeout_s=6)
        answering = c.phone.answer()
        time.sleep(SETTLE_S)
        assert_ok(from_carrier(e2e, c.did, "+46709998877"))
        carrier.wait(10)
        assert carrier.received("INVITE") == [], "the inbound call went back out through the trunk"
        assert answering.wait(10) == 0, answering.explain()
        assert agi.sessions == 1


# -- blocked callers stay blocked ------------------------------------------------------------------


@pytest.mark.security
def test_a_blocked_caller_stays_blocked_when_the_control_service_is_down(e2e: E2E, platform: Api) -> None:
    c = callee(e2e, platform)
    with control_down(e2e):
        # as the carrier may send the number: E.164, 00..., national; and with no number at all
        for caller in (BLOCKED, "00" + BLOCKED[1:], "0" + BLOCKED[3:], "anonymous"):
            ringing = c.phone.answer(timeout_s=4)
            time.sleep(SETTLE_S)
            assert_ok(from_carrier(e2e, c.did, caller, expect=486))
            not_rung(ringing)
        answering = c.phone.answer()
        time.sleep(SETTLE_S)
        assert_ok(from_carrier(e2e, c.did, "+46701112234"))  # anyone else rings
        assert answering.wait(10) == 0, answering.explain()


# Odd bytes in the From header, as sent by the blocked caller: (display name, URI user).
ODD_FROM = {
    "plain": (b'"Mallory" ', b"+46701112233"),
    "newline in the number (%0A)": (b'"Mallory" ', b"+4670111%0A2233"),
    "CR LF after the number": (b'"Mallory" ', b"+46701112233%0D%0A"),
    "newline in the name, raw": (b'"Mal\nlory" ', b"+46701112233"),
    "newline in the name, folded": (b'"Mal\r\n lory" ', b"+46701112233"),
    "newline in the name, quoted pair": (b'"Mal\\\nlory" ', b"+46701112233"),
    "newline in the name, encoded": (b'"Mal%0Alory" ', b"+46701112233"),
    "vertical tab, form feed": (b'"Mal\x0b\x0clory" ', b"+46701112233"),
    "invalid UTF-8, NEL": (b'"Mal\xff\x85lory" ', b"+46701112233"),
}


@pytest.mark.security
@pytest.mark.parametrize("case", list(ODD_FROM))
def test_odd_bytes_in_the_from_header_never_get_a_blocked_caller_through(
    e2e: E2E, platform: Api, case: str
) -> None:
    """Through chan_pjsip a percent-encoded newline in the From URI's user part reaches the FastAGI
    header as a real one (a raw newline in the display name does not: pjsip drops the message).
    Whatever the bytes, the caller is refused (486), or the message dropped, and nobody rings; and
    the control service, not the fallback, decides."""
    c = callee(e2e, platform)
    display, user = ODD_FROM[case]
    xml = sipp_scenarios.call(c.did, expect=486, auth=False, from_user="@@USER@@", from_name="@@DISPLAY@@")
    scenario = xml.encode().replace(b'"@@DISPLAY@@" ', display).replace(b"@@USER@@", user)
    health = Api(e2e.control.api)
    rejected = health.get("/health")["agi"]["rejected_total"]
    ringing = c.phone.answer(timeout_s=5)
    time.sleep(SETTLE_S)
    run = e2e.carrier(CARRIER_CALLS_FROM).run(scenario, timeout_s=4)
    # this call's answers only (a SIPp before may have left retransmissions on the port)
    call_id = header(run.sent("INVITE")[0], "Call-ID")
    codes = [m.split()[1] for m in run.received("SIP/2.0") if header(m, "Call-ID") == call_id]
    assert set(codes) <= {"100", "400", "486"} and (codes == [] or codes[-1] in ("400", "486")), codes
    not_rung(ringing)
    assert health.get("/health")["agi"]["rejected_total"] == rejected, "the FastAGI header was unreadable"
