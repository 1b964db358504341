"""The injection corpus sent by SIPp (issue 13): as the caller's name and number (from the carrier),
as the digits a phone dials, and in headers (Diversion, a header of its own). Counted: cases
tried and escapes (0). An escape is another organization's phone ringing, a call out through the
trunk, a FastAGI handler that crashed, or a 5xx; every other outcome is a sensible one: answered
by the callee, refused with a 4xx, or the message dropped as malformed by Asterisk's SIP stack.

The cases of one position are sent at once (one SIPp each), so the whole corpus takes seconds."""

from __future__ import annotations

import itertools
import re
import time
from urllib.parse import quote_from_bytes

import pytest

from tests.e2e.conftest import CARRIER_IP, CARRIER_PORT, E2E
from tests.support.api import Api
from tests.support.counted import counts
from tests.support.faults import phone_ports
from tests.support.provision import User, new_org
from tests.support.sipp import Phone
from tests.support.sipp_injection import SERVER_ERRORS, final_outcome, invite_any_outcome

pytestmark = [pytest.mark.e2e, pytest.mark.security]

CORPUS: list[bytes] = [
    b"Mal\nlory",
    b'Mal"lory',
    b"Mal'lory",
    b"a&b",
    b"a,b",
    b"a|b",
    b"a;b=c",
    b"${PBX_ORG}",
    b"${SHELL(id)}",
    b"${CUT(PBX_ORG,-,1)}",
    b"`id`",
    b"\xff\xfe\xc3(",
    b"1001\nSET VARIABLE PBX_ORG rfb1\n",
    b"1001&PJSIP/rfb1_1001_1",
    b"Goto(org-other,1001,1)",
    b"'; DROP TABLE users; --",
    b"9" * 2000,
]
SETTLE_S = 0.3
_ports = phone_ports
_dids = itertools.count(1)


def uri_user(case: bytes) -> bytes:
    """The case as a SIP URI's user part: percent-encoded (Asterisk hands it on decoded)."""
    return quote_from_bytes(case, safe="+-.").encode()


def header_safe(case: bytes) -> bytes:
    return case.replace(b"\n", b"%0A")


def sender(e2e: E2E, user: str, password: str, ip: str) -> Phone:
    return Phone(user, password, next(_ports), server=e2e.sip, local_ip=ip, workdir=e2e.workdir)


def test_the_injection_corpus_through_sip_reaches_nobody_else(e2e: E2E, platform: Api) -> None:
    mine, other = new_org(platform, prefix="inj"), new_org(platform, prefix="ino", main_number="+46812349500")
    anna, bo = mine.add_user("1001", "Anna"), mine.add_user("1002", "Bo")
    berit = other.add_user("1001", "Berit")
    did, other_did = f"+46854{next(_dids):06d}", f"+46854{next(_dids):06d}"
    mine.add_number(did, anna)
    other.add_number(other_did, berit)
    phones: dict[str, Phone] = {}
    for name, user in (("anna", anna), ("berit", berit)):
        d: User = user
        phones[name] = sender(e2e, d.devices[0].sip_username, d.devices[0].sip_password, "127.0.0.1")
        phones[name].register()
    health = Api(e2e.control.api)
    errors_before = health.get("/health")["agi"]["errors_total"]
    total = len(CORPUS) * 4
    anna_answers = phones["anna"].answer(calls=total, answer_after_ms=50, timeout_s=40)
    berit_listens = phones["berit"].answer(calls=total, timeout_s=40)
    carrier_listens = e2e.carrier().answer(calls=total, timeout_s=40)
    time.sleep(SETTLE_S)

    bo_dev = bo.devices[0]
    positions = {
        "caller name": lambda c: (did.encode(), b"+46701234567", c, b"", False),
        "caller number": lambda c: (did.encode(), uri_user(c), b"Caller", b"", False),
        "headers": lambda c: (
            did.encode(),
            b"+46701234567",
            b"Caller",
            b"Diversion: <sip:"
            + uri_user(c)
            + b"@127.0.0.2>;reason=unconditional\nX-Pbx-Org: "
            + header_safe(c)
            + b"\n",
            False,
        ),
        "dialled digits": lambda c: (uri_user(c), bo_dev.sip_username.encode(), b"Bo", b"", True),
    }
    results: dict[str, list[str]] = {}
    for position, build in positions.items():
        runs = []
        for case in CORPUS:
            request_user, from_user, display, extra, auth = build(case)
            if auth:
                who = sender(e2e, bo_dev.sip_username, bo_dev.sip_password, "127.0.0.1")
            else:
                who = sender(e2e, "carrier", "none", CARRIER_IP)
            xml = invite_any_outcome(request_user, from_user, display, extra, auth=auth)
            runs.append(who.start(xml, timeout_s=5))
        for run in runs:
            run.wait(20)
        results[position] = [final_outcome(r) for r in runs]
    time.sleep(1)
    for run in (anna_answers, berit_listens, carrier_listens):
        run.stop()

    agi = health.get("/health")["agi"]
    crashed = agi["errors_total"] - errors_before
    other_rang = len(berit_listens.received("INVITE"))
    out_by_trunk = len(carrier_listens.received("INVITE"))
    server_errors = [
        (p, CORPUS[i][:30], o)
        for p, outs in results.items()
        for i, o in enumerate(outs)
        if re.fullmatch(r"refused (\d+)", o) and int(o.split()[1]) in SERVER_ERRORS
    ]
    tally: dict[str, int] = {}
    for outs in results.values():
        for o in outs:
            tally[o.split()[0]] = tally.get(o.split()[0], 0) + 1
    escapes = other_rang + out_by_trunk + crashed + len(server_errors)
    line = counts(
        "security/sip-injection",
        cases=sum(len(v) for v in results.values()),
        positions=len(positions),
        **tally,
        escapes=escapes,
        other_organization_rang=other_rang,
        out_through_the_trunk=out_by_trunk,
        handlers_crashed=crashed,
        server_errors=len(server_errors),
    )
    assert escapes == 0, (line, server_errors, results)
    assert agi["ok"] is True and health.get("/health")["ami"]["ok"] is True
    assert CARRIER_PORT  # the carrier's answering side listened on its usual port
