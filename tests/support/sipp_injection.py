"""SIPp scenarios for the injection corpus: one INVITE whose bytes are the case's, and any final
answer taken as the outcome (answered: ACK, BYE; refused: ACK). The test reads which one came."""

from __future__ import annotations

from tests.support.sipp import SippRun

FINAL_CODES = (400, 403, 404, 405, 408, 413, 414, 415, 416, 420, 480, 481, 482, 483, 484, 485, 486, 487, 488)
SERVER_ERRORS = (500, 501, 502, 503, 504, 603)

_SDP = b"""v=0
o=user1 53655765 2353687637 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 8
a=rtpmap:0 PCMU/8000
a=sendrecv
"""


def _cdata(text: bytes) -> bytes:
    return b"<![CDATA[\n" + text.strip(b"\n") + b"\n\n]]>"


def invite_any_outcome(
    request_user: bytes, from_user: bytes, display: bytes, extra_headers: bytes = b"", *, auth: bool = False
) -> bytes:
    """An INVITE to `request_user` from `"display" <sip:from_user@...>` with `extra_headers`
    (whole lines, CRLF-free), exactly these bytes; with auth, through the digest challenge."""

    def invite(cseq: int, with_auth: bool) -> bytes:
        return _cdata(
            b"INVITE sip:" + request_user + b"@[remote_ip]:[remote_port] SIP/2.0\n"
            b"Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            b'From: "'
            + display
            + b'" <sip:'
            + from_user
            + b"@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
            b"To: <sip:" + request_user + b"@[remote_ip]:[remote_port]>\n"
            b"Call-ID: [call_id]\n"
            b"CSeq: " + str(cseq).encode() + b" INVITE\n"
            b"Contact: <sip:[service]@[local_ip]:[local_port];transport=[transport]>\n"
            b"Max-Forwards: 70\n"
            + extra_headers
            + (b"[authentication]\n" if with_auth else b"")
            + b"Content-Type: application/sdp\n"
            b"Content-Length: [len]\n\n" + _SDP
        )

    def ack(cseq: int) -> bytes:
        return _cdata(
            b"ACK sip:"
            + request_user
            + b"@[remote_ip]:[remote_port] SIP/2.0\n[last_Via:]\n[last_From:]\n[last_To:]\n"
            b"[last_Call-ID:]\nCSeq: " + str(cseq).encode() + b" ACK\nMax-Forwards: 70\nContent-Length: 0\n"
        )

    cseq = 2 if auth else 1
    steps = [
        b'<send retrans="500">' + invite(1, False) + b"</send>",
        b'<recv response="100" optional="true"/>',
    ]
    if auth:
        steps += [
            b'<recv response="401" auth="true" optional="true" next="challenged"/>',
            b'<recv response="400" next="refused"/>',
            b'<label id="challenged"/>',
            b"<send>" + ack(1) + b"</send>",
            b'<send retrans="500">' + invite(2, True) + b"</send>",
            b'<recv response="100" optional="true"/>',
        ]
    steps += [b'<recv response="%d" optional="true"/>' % c for c in (180, 183, 180, 183)]
    steps.append(
        b'<recv response="200" optional="true" next="answered"><action>'
        b'<ereg regexp=".*" search_in="hdr" header="To:" assign_to="dialog_to"/>'
        b'<ereg regexp="&lt;(.*)&gt;" search_in="hdr" header="Contact:" assign_to="junk,remote_uri"/>'
        b"</action></recv>"
    )
    codes = (*FINAL_CODES, *SERVER_ERRORS)
    steps += [b'<recv response="%d" optional="true" next="refused"/>' % c for c in codes[:-1]]
    steps.append(b'<recv response="%d" next="refused"/>' % codes[-1])
    steps += [
        b'<label id="answered"/>',
        b"<send>"
        + _cdata(
            b"ACK [$remote_uri] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            b"[last_From:]\nTo:[$dialog_to]\n[last_Call-ID:]\nCSeq: " + str(cseq).encode() + b" ACK\n"
            b"Max-Forwards: 70\nContent-Length: 0\n"
        )
        + b"</send>",
        b'<pause milliseconds="200"/>',
        b'<send retrans="500">'
        + _cdata(
            b"BYE [$remote_uri] SIP/2.0\nVia: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
            b"[last_From:]\nTo:[$dialog_to]\n[last_Call-ID:]\nCSeq: " + str(cseq + 1).encode() + b" BYE\n"
            b"Max-Forwards: 70\nContent-Length: 0\n"
        )
        + b"</send>",
        b'<recv response="200" next="end"/>',
        b'<Reference variables="junk"/>',
        b'<label id="refused"/>',
        b"<send>" + ack(cseq) + b"</send>",
        b'<label id="end"/>',
    ]
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="inject">\n  '
        + b"\n  ".join(steps)
        + b"\n</scenario>\n"
    )


def final_outcome(run: SippRun) -> str:
    """ "answered", "refused <code>", or "dropped" (no final answer: malformed, not taken)."""
    finals = [m.split()[1] for m in run.received("SIP/2.0") if not m.split()[1].startswith(("1", "401"))]
    if not finals:
        return "dropped"
    return "answered" if finals[-1] == "200" else f"refused {finals[-1]}"
