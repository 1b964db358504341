"""SIP attacks from other loopback addresses (issue 13), counted: impersonating the trunk,
guessing device passwords, calling without registering, a REFER into another organization.
Every one refused, nobody rung, and Asterisk's security log (for fail2ban) names the address.
The test carrier is 127.0.0.2; the attackers use 127.0.0.5 to 127.0.0.9."""

from __future__ import annotations

import itertools
import re
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.counted import counts
from tests.support.faults import phone_ports
from tests.support.provision import User, new_org
from tests.support.sipp import Phone, SippRun

pytestmark = [pytest.mark.e2e, pytest.mark.security]

ATTACKERS = [f"127.0.0.{n}" for n in range(5, 10)]
TRUNK_ENDPOINT = "trunk_carrier"
GUESSES = 8
SETTLE_S = 0.3
_ports = phone_ports
_dids = itertools.count(1)


def phone(e2e: E2E, user: User, ip: str = "127.0.0.1", password: str | None = None) -> Phone:
    d = user.devices[0]
    return Phone(
        d.sip_username,
        password or d.sip_password,
        next(_ports),
        server=e2e.sip,
        local_ip=ip,
        workdir=e2e.workdir,
    )


def codes(run: SippRun) -> list[str]:
    return [m.split()[1] for m in run.received("SIP/2.0")]


def security_log(e2e: E2E) -> str:
    path = e2e.stack.asterisk_instance().log_dir / "security.log"
    return path.read_text(errors="replace") if path.exists() else ""


def test_sip_attacks_from_other_addresses_are_refused_and_logged(e2e: E2E, platform: Api) -> None:
    org = new_org(platform, prefix="atk")
    anna = org.add_user("1001", "Anna")
    did = f"+46859{next(_dids):06d}"
    org.add_number(did, anna)
    anna_phone = phone(e2e, anna)
    anna_phone.register()
    ringing = anna_phone.answer(timeout_s=25)
    time.sleep(SETTLE_S)
    log_before = len(security_log(e2e))
    tried: dict[str, int] = {}
    passed: list[str] = []

    # 1. The trunk's endpoint name as From user, no password, from every attacker address.
    for ip in ATTACKERS:
        run = Phone(TRUNK_ENDPOINT, "none", next(_ports), server=e2e.sip, local_ip=ip, workdir=e2e.workdir)
        r = run.call(did, expect=401, auth=False, from_user=TRUNK_ENDPOINT, timeout_s=5)
        tried["trunk_impersonation"] = tried.get("trunk_impersonation", 0) + 1
        if r.returncode != 0:
            passed.append(f"trunk from {ip}: {codes(r)}")

    # 2. Guessing Anna's device password: every REGISTER refused.
    guesser = ATTACKERS[1]
    for n in range(GUESSES):
        r = phone(e2e, anna, guesser, password=f"guess-{n}").register_expect_failure(timeout_s=3)
        tried["password_guesses"] = tried.get("password_guesses", 0) + 1
        if r.received("SIP/2.0 200"):
            passed.append(f"guess {n} registered")

    # 3. Calling without registering or authenticating: to an extension, a DID, outside numbers.
    for number in ("1001", did, "0701234567", "+4420794601234", "112"):
        stranger = Phone(
            anna.devices[0].sip_username,
            "none",
            next(_ports),
            server=e2e.sip,
            local_ip=ATTACKERS[2],
            workdir=e2e.workdir,
        )
        r = stranger.call(number, expect=401, auth=False, from_user=anna.devices[0].sip_username, timeout_s=5)
        tried["unauthenticated_calls"] = tried.get("unauthenticated_calls", 0) + 1
        if r.returncode != 0:
            passed.append(f"call to {number}: {codes(r)}")

    ringing.stop()  # every attack has had its answer: an INVITE for Anna would be here
    rang = len(ringing.received("INVITE"))
    logged = security_log(e2e)[log_before:]
    guesses_logged = len(re.findall(rf"RemoteAddress=\"IPV4/UDP/{re.escape(guesser)}/", logged))
    line = counts(
        "security/sip-attacks",
        cases=sum(tried.values()),
        **tried,
        passed=len(passed),
        phone_rang=rang,
        guesses_in_security_log=guesses_logged,
    )
    assert passed == [] and rang == 0, (passed, line)
    assert guesses_logged >= GUESSES, line + logged[-2000:]


def test_a_refer_reaches_no_other_organization(e2e: E2E, platform: Api) -> None:
    """Anna answers Bo and transfers him with a SIP REFER: to her colleague Cilla it works; to an
    extension only the other organization has, nobody there rings."""
    mine, other = new_org(platform, prefix="rfa"), new_org(platform, prefix="rfb", main_number="+46812349600")
    anna, bo, cilla = (
        mine.add_user("1001", "Anna"),
        mine.add_user("1002", "Bo"),
        mine.add_user("1003", "Cilla"),
    )
    berit, dan = other.add_user("1003", "Berit"), other.add_user("2001", "Dan")
    phones = {u.name: phone(e2e, u) for u in (anna, bo, cilla, berit, dan)}
    for p in phones.values():
        p.register()
    outcomes: dict[str, int] = {}
    for target, should_ring in (("2001", None), ("1003", "Cilla")):
        listening = {name: phones[name].answer(timeout_s=6) for name in ("Cilla", "Berit", "Dan")}
        refer = phones["Anna"].answer_then_refer(target, timeout_s=8)
        time.sleep(SETTLE_S)
        phones["Bo"].call("1001", hold_ms=2500, timeout_s=10, remote_may_hang_up=True)
        refer.wait(12)
        time.sleep(1)  # a transfer's INVITE follows the REFER at once
        for run in listening.values():
            run.stop()
        rang = {name for name, run in listening.items() if run.received("INVITE")}
        outcomes[target] = len(rang)
        assert rang == ({should_ring} if should_ring else set()), (target, rang)
    counts(
        "security/refer-other-organization",
        refers=2,
        to_the_other_organization_rang=outcomes["2001"],
        to_a_colleague_rang=outcomes["1003"],
    )
