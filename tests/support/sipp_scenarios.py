"""SIPp scenarios as text, so a test can choose the expected answer. SIPp fills [keywords]."""

from __future__ import annotations

from xml.sax.saxutils import escape

_SDP = """v=0
o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
"""


def _cdata(text: str) -> str:
    return "<![CDATA[\n" + text.strip("\n") + "\n\n]]>"


_REINVITE_OK = (
    """
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

"""
    + _SDP
)


# 200 OK to a request inside the dialog (BYE, CANCEL): no body.
_OK_EMPTY = """
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
"""

_RINGING = """
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Length: 0
"""


def _reinvite_block(back_to: str) -> str:
    """Answer a re-INVITE (connected line update, session refresh) and go back to back_to."""
    return f"""<label id="reinvite"/>
  <send>{_cdata(_REINVITE_OK)}</send>
  <recv request="ACK"/>
  <nop next="{back_to}"/>"""


def register(expires: int = 3600) -> str:
    """REGISTER, answer the 401 digest challenge, expect 200."""

    def req(cseq: int, auth: bool) -> str:
        return _cdata(f"""
REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:[service]@[remote_ip]:[remote_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Expires: {expires}
User-Agent: sipp-phone
{"[authentication]" + chr(10) if auth else ""}Content-Length: 0
""")

    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="register">
  <send retrans="500">{req(1, False)}</send>
  <recv response="100" optional="true"/>
  <recv response="401" auth="true"/>
  <send retrans="500">{req(2, True)}</send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
</scenario>
"""


def answer(answer_after_ms: int = 200) -> str:
    """A phone that rings, answers after a pause, and waits for the caller's BYE."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer">
  <recv request="INVITE" crlf="true"/>
  <send>{_cdata(_RINGING)}</send>
  <pause milliseconds="{answer_after_ms}"/>
  <send retrans="500">{
        _cdata(
            '''
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

'''
            + _SDP
        )
    }</send>
  <recv request="ACK" rtd="true" crlf="true"/>
  <label id="wait"/>
  <recv request="INVITE" optional="true" next="reinvite"/>
  <recv request="BYE"/>
  <send>{_cdata(_OK_EMPTY)}</send>
  <nop next="end"/>
  {_reinvite_block("wait")}
  <label id="end"/>
  <timewait milliseconds="500"/>
</scenario>
"""


def answer_then_refer(target: str, server: str, refer_after_ms: int = 1000) -> str:
    """A phone that answers, talks for a moment, then blind-transfers the caller to `target` (at
    `server`, host:port) with a REFER inside the dialog, as a desk phone does: 202, a 200 to each
    NOTIFY of the transfer's progress, and its own BYE once the last one (terminated) came."""

    def request(method: str, cseq: int, extra: str = "") -> str:
        return _cdata(f"""
{method} [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From:[$me];tag=[pid]SIPpTag01[call_number]
To:[$peer]
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>
{extra}Max-Forwards: 70
Content-Length: 0
""")

    refer = request(
        "REFER",
        1,
        f"Refer-To: <sip:{target}@{server}>\nReferred-By: <sip:[service]@[local_ip]:[local_port]>\n",
    )
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer-then-refer">
  <recv request="INVITE" crlf="true"><action>
    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="peer"/>
    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="me"/>
    <ereg regexp="&lt;(.*)&gt;" search_in="hdr" header="Contact:" assign_to="junk,contact"/>
  </action></recv>
  <send>{_cdata(_RINGING)}</send>
  <send retrans="500">{
        _cdata(
            '''
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port];transport=[transport]>
Content-Type: application/sdp
Content-Length: [len]

'''
            + _SDP
        )
    }</send>
  <recv request="ACK" crlf="true"/>
  <pause milliseconds="{refer_after_ms}"/>
  <send retrans="500">{refer}</send>
  <recv response="100" optional="true"/>
  <recv response="202" next="progress"/>
  <label id="notify"/>
  <send next="bye" test="done">{_cdata(_OK_EMPTY)}</send>
  <label id="progress"/>
  <recv request="INVITE" optional="true" next="reinvite"/>
  <recv request="NOTIFY" next="notify"><action>
    <ereg regexp="terminated" search_in="hdr" header="Subscription-State:" assign_to="done"/>
  </action></recv>
  <label id="bye"/>
  <send retrans="500">{request("BYE", 2)}</send>
  <recv response="200" next="end"/>
  {_reinvite_block("progress")}
  <Reference variables="junk"/>
  <label id="end"/>
  <timewait milliseconds="500"/>
</scenario>
"""


def busy_here() -> str:
    """A phone already on a call: it answers an INVITE with 486 Busy Here."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="busy">
  <recv request="INVITE" crlf="true"/>
  <send>{
        _cdata('''
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
''')
    }</send>
  <recv request="ACK"/>
  <timewait milliseconds="500"/>
</scenario>
"""


def ring_only() -> str:
    """A phone that rings and never answers: it expects the call to be cancelled."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ring-only">
  <recv request="INVITE" crlf="true"/>
  <send>{_cdata(_RINGING)}</send>
  <recv request="CANCEL"/>
  <send>{_cdata(_OK_EMPTY)}</send>
  <send>{
        _cdata('''
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0
''')
    }</send>
  <recv request="ACK"/>
  <timewait milliseconds="500"/>
</scenario>
"""


def call(
    number: str,
    *,
    expect: int = 200,
    hold_ms: int = 500,
    auth: bool = True,
    from_user: str = "[service]",
    from_name: str = "",
    media_port: int | None = None,
    remote_may_hang_up: bool = False,
) -> str:
    """Place a call to number; expect a final response (200: hold, then hang up).

    media_port: where the offer asks for audio (default SIPp's own media port), so a test can
    listen there for the RTP Asterisk sends. With remote_may_hang_up, a BYE from the other side
    during the hold ends the call as well."""
    display = f'"{escape(from_name)}" ' if from_name else ""
    sdp = _SDP if media_port is None else _SDP.replace("[media_port]", str(int(media_port)))

    def invite(cseq: int, with_auth: bool) -> str:
        return _cdata(
            f"""
INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: {display}<sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:{number}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{from_user}@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
{"[authentication]" + chr(10) if with_auth else ""}Content-Type: application/sdp
Content-Length: [len]

"""
            + sdp
        )

    ack_error = _cdata("""
ACK sip:{number}@[remote_ip]:[remote_port] SIP/2.0
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0
""")
    steps = [f'<send retrans="500">{invite(1, False)}</send>', '<recv response="100" optional="true"/>']
    cseq = 1
    if auth:
        steps += [
            '<recv response="401" auth="true"/>',
            f"<send>{ack_error.replace('{number}', number).replace('{cseq}', '1')}</send>",
            f'<send retrans="500">{invite(2, True)}</send>',
            '<recv response="100" optional="true"/>',
        ]
        cseq = 2
    steps += [
        '<recv response="180" optional="true"/>',
        '<recv response="183" optional="true"/>',
        '<recv response="180" optional="true"/>',
    ]
    if expect == 200:
        steps += [
            (
                '<recv response="200" rtd="true" rrs="true"><action>'
                '<ereg regexp=".*" search_in="hdr" header="To:" assign_to="dialog_to"/>'
                '<ereg regexp="&lt;(.*)&gt;" search_in="hdr" header="Contact:" assign_to="junk,remote_uri"/>'
                "</action></recv>"
            ),
            "<send>"
            + _cdata(f"""
ACK [$remote_uri] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: {display}<sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To:[$dialog_to]
[routes]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0
""")
            + "</send>",
            '<label id="hold"/>',
            *(
                [
                    f'<recv request="BYE" optional="true" next="remotebye" timeout="{hold_ms}" '
                    'ontimeout="bye"/>'
                ]
                if remote_may_hang_up
                else []
            ),
            f'<recv request="INVITE" timeout="{hold_ms}" ontimeout="bye"/>',
            "<send>" + _cdata(_REINVITE_OK) + "</send>",
            '<recv request="ACK"/>',
            '<nop next="hold"/>',
            '<Reference variables="junk"/>',
            '<label id="bye"/>',
            '<send retrans="500">'
            + _cdata(f"""
BYE [$remote_uri] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: {display}<sip:{from_user}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To:[$dialog_to]
[routes]
Call-ID: [call_id]
CSeq: {cseq + 1} BYE
Max-Forwards: 70
Content-Length: 0
""")
            + "</send>",
            '<recv response="200" crlf="true"/>',
        ]
        if remote_may_hang_up:
            steps += [
                '<nop next="end"/>',
                '<label id="remotebye"/>',
                "<send>" + _cdata(_OK_EMPTY) + "</send>",
                '<label id="end"/>',
            ]
    else:
        steps += [
            f'<recv response="{expect}"/>',
            f"<send>{ack_error.replace('{number}', number).replace('{cseq}', str(cseq))}</send>",
        ]
    body = "\n  ".join(steps)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="call">
  {body}
</scenario>
"""


def answer_then_refer_replacing(target: str, server: str, replaces: str, refer_after_ms: int = 800) -> str:
    """A desk phone's attended transfer: it answers, then REFERs the caller to `target` replacing
    the phone's other dialog (`replaces`: "call-id;to-tag=...;from-tag=...", RFC 3891), answers
    the NOTIFYs of the transfer's progress, and ends: Asterisk's BYE, or its own."""
    quoted = replaces.replace("@", "%40").replace(";", "%3B").replace("=", "%3D")
    xml = answer_then_refer(target, server, refer_after_ms)
    xml = xml.replace(
        f"Refer-To: <sip:{target}@{server}>", f"Refer-To: <sip:{target}@{server}?Replaces={quoted}>"
    )
    # After the last NOTIFY Asterisk may hang up this dialog itself (the transfer is done).
    return (
        xml.replace(
            '<send next="bye" test="done">',
            '<send next="waitbye" test="done">',
        )
        .replace(
            '  <label id="bye"/>',
            '  <label id="waitbye"/>\n'
            '  <recv request="BYE" timeout="1500" ontimeout="bye" next="gotbye"/>\n'
            '  <label id="bye"/>',
        )
        .replace(
            '  <Reference variables="junk"/>',
            f'  <label id="gotbye"/>\n  <send next="end">{_cdata(_OK_EMPTY)}</send>\n'
            '  <Reference variables="junk"/>',
        )
    )
