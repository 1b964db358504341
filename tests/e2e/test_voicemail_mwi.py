"""Message waiting with real Asterisk: a SIPp phone SUBSCRIBEs for message-summary to its own AOR
and res_pjsip_mwi answers with the user's app_voicemail box (sql/013_voicemail.sql), not 404; a message
left in the box is notified (Messages-Waiting: yes)."""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import PASSWORD, Org, new_org
from tests.support.rtp import RtpListener
from tests.support.sipp import Phone, SippRun, header
from tests.support.sipp_scenarios import _cdata

pytestmark = [pytest.mark.e2e, pytest.mark.voicemail]

# Phones from base+4600 (media at SIP + 10000), clear of the other e2e files' ranges.
_ports = itertools.count(TEST_PORT_BASE + 4600, 10)


def _subscribe(cseq: int, auth: bool) -> str:
    return _cdata(f"""
SUBSCRIBE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} SUBSCRIBE
Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Event: message-summary
Accept: application/simple-message-summary
Expires: 120
User-Agent: sipp-phone
{"[authentication]" + chr(10) if auth else ""}Content-Length: 0
""")


_NOTIFY_OK = _cdata("""
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
""")

_SCENARIO = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="subscribe-mwi">
  <send retrans="500">{_subscribe(1, False)}</send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send retrans="500">{_subscribe(2, True)}</send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <recv request="NOTIFY"/>
  <send>{_NOTIFY_OK}</send>
{{more}}</scenario>
"""

# After the first NOTIFY (the box as it is), wait for the next one (the box changed).
_NEXT_NOTIFY = f"""  <recv request="NOTIFY" timeout="60000"/>
  <send>{_NOTIFY_OK}</send>
"""


SUBSCRIBE_MWI = _SCENARIO.replace("{more}", "")
SUBSCRIBE_MWI_THEN_CHANGE = _SCENARIO.replace("{more}", _NEXT_NOTIFY)


@pytest.fixture
def org(platform: Api) -> Org:
    return new_org(platform, prefix="vm")


def test_a_phone_subscribing_for_mwi_gets_its_users_mailbox(e2e: E2E, org: Org) -> None:
    user = org.add_user("1301", "Vera Voicemail")
    device = user.devices[0]
    phone = Phone(device.sip_username, device.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    phone.register()
    run = phone.run(SUBSCRIBE_MWI, timeout_s=15)
    assert run.returncode == 0, run.explain()
    notify = run.received("NOTIFY")[0]
    assert header(notify, "Event") == "message-summary"
    assert "Messages-Waiting: no" in notify
    # an empty box: app_voicemail has no message for 1301@<org slug> yet
    assert "Voice-Message: 0/0" in notify, notify


def test_a_message_left_lights_the_lamp(e2e: E2E, org: Org) -> None:
    caller, bo = org.add_user("1311", "Anna Caller"), org.add_user("1312", "Bo Box")
    org.admin.login(bo.username, PASSWORD).request("PUT", "/users/me/settings", {"closed": True}, expect=200)
    bo_phone = Phone(
        bo.devices[0].sip_username,
        bo.devices[0].sip_password,
        next(_ports),
        server=e2e.sip,
        workdir=e2e.workdir,
    )
    bo_phone.register()
    runs: list[SippRun] = []
    watcher = threading.Thread(
        target=lambda: runs.append(bo_phone.run(SUBSCRIBE_MWI_THEN_CHANGE, timeout_s=70))
    )
    watcher.start()
    a = caller.devices[0]
    a_phone = Phone(a.sip_username, a.sip_password, next(_ports), server=e2e.sip, workdir=e2e.workdir)
    a_phone.register()
    with RtpListener() as rtp:
        # Bo is closed: straight to the box. The greeting and intro take ~12 s; the caller speaks
        # through them and for some seconds after the beep
        call = a_phone.call("1312", hold_ms=20000, media_port=rtp.port, wait=False, timeout_s=50)
        deadline = time.monotonic() + 20
        while not call.received("SIP/2.0 200") and time.monotonic() < deadline:
            time.sleep(0.1)
        answers = call.received("SIP/2.0 200")
        assert answers, call.explain()
        media = re.search(r"^m=audio (\d+)", answers[0], re.M)
        assert media is not None, answers[0]
        rtp.send_audio("127.0.0.1", int(media.group(1)), packets=900)
        assert call.wait(60) == 0, call.explain()
    watcher.join(90)
    assert runs and runs[0].returncode == 0, runs[0].explain() if runs else "no subscription run"
    first, changed = runs[0].received("NOTIFY")[:2]
    # one new message more than the box had (the instance's spool outlives a test session, so a
    # box of an earlier run's organization with the same slug may not start empty)
    assert _new_messages(changed) == _new_messages(first) + 1, changed
    assert "Messages-Waiting: yes" in changed


def _new_messages(notify: str) -> int:
    m = re.search(r"^Voice-Message: (\d+)/\d+", notify, re.M)
    assert m is not None, notify
    return int(m.group(1))
