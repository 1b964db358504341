"""Message waiting with real Asterisk: a SIPp phone SUBSCRIBEs for message-summary to its own AOR
and res_pjsip_mwi answers with the user's app_voicemail box (sql/013_voicemail.sql), not 404."""

from __future__ import annotations

import itertools

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.ports import TEST_PORT_BASE
from tests.support.provision import Org, new_org
from tests.support.sipp import Phone, header
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

SUBSCRIBE_MWI = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="subscribe-mwi">
  <send retrans="500">{_subscribe(1, False)}</send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send retrans="500">{_subscribe(2, True)}</send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <recv request="NOTIFY"/>
  <send>{_NOTIFY_OK}</send>
</scenario>
"""


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
