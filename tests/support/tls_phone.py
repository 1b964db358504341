"""A phone on SIP over TLS, played by Python's ssl module (this SIPp is built without TLS): it
registers with its digest password, then answers what arrives on its TLS connection (OPTIONS,
NOTIFY: 200; an INVITE: 180 then 200 with an SDP answer matching the offer, SRTP included), and
hangs up with a BYE of its own. Every message it receives is kept, for the tests to read."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5


def header(message: str, name: str) -> str | None:
    m = re.search(rf"^{re.escape(name)}:\s*(.*?)\r?$", message, re.IGNORECASE | re.MULTILINE)
    return m.group(1).strip() if m else None


def headers(message: str, name: str) -> list[str]:
    return [
        v.strip()
        for v in re.findall(rf"^{re.escape(name)}:\s*(.*?)\r?$", message, re.IGNORECASE | re.MULTILINE)
    ]


def body(message: str) -> str:
    return message.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in message else ""


def answer_sdp(offer: str, ip: str, port: int) -> str:
    """An SDP answer to `offer`: its first codec, the same profile (RTP/AVP or RTP/SAVP) and, for
    SRTP, a key of our own under the offer's first crypto tag and suite."""
    m = re.search(r"^m=audio \d+ (\S+) (\d+)", offer, re.MULTILINE)
    assert m is not None, offer
    profile, pt = m.group(1), m.group(2)
    lines = [
        "v=0",
        f"o=tlsphone 1 1 IN IP4 {ip}",
        "s=-",
        f"c=IN IP4 {ip}",
        "t=0 0",
        f"m=audio {port} {profile} {pt}",
        "a=sendrecv",
    ]
    crypto = re.search(r"^a=crypto:(\d+) (\S+) inline:", offer, re.MULTILINE)
    if profile == "RTP/SAVP" and crypto:
        key = base64.b64encode(os.urandom(30)).decode()
        lines.append(f"a=crypto:{crypto.group(1)} {crypto.group(2)} inline:{key}")
    return "\r\n".join(lines) + "\r\n"


@dataclass
class TlsPhone:
    username: str
    password: str
    realm: str
    server: tuple[str, int]
    media_port: int = 40000
    received: list[str] = field(default_factory=list)
    _sock: ssl.SSLSocket | None = None
    _buf: bytes = b""
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _reader: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _responses: list[str] = field(default_factory=list)
    _cseq: int = 0
    dialog: dict[str, str] = field(default_factory=dict)

    # --- connection --------------------------------------------------------------------------
    def connect(self) -> TlsPhone:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the stack's self-signed certificate
        raw = socket.create_connection(self.server, timeout=5)
        self._sock = ctx.wrap_socket(raw)
        self._sock.settimeout(0.2)
        return self

    @property
    def local(self) -> tuple[str, int]:
        assert self._sock is not None
        host, port = self._sock.getsockname()[:2]
        return str(host), int(port)

    def close(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(2)
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, message: str) -> None:
        assert self._sock is not None
        with self._lock:
            self._sock.sendall(message.encode())

    def _read_one(self) -> str | None:
        """One SIP message from the connection, or None if none arrived within the socket timeout."""
        assert self._sock is not None
        while True:
            self._buf = self._buf.lstrip(b"\r\n")  # keep-alive CRLFs
            head_end = self._buf.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self._buf[:head_end].decode(errors="replace")
                length = int(header(head, "Content-Length") or header(head, "l") or "0")
                total = head_end + 4 + length
                if len(self._buf) >= total:
                    msg, self._buf = self._buf[:total], self._buf[total:]
                    return msg.decode(errors="replace")
            try:
                chunk = self._sock.recv(65536)
            except (TimeoutError, ssl.SSLWantReadError):
                return None
            if not chunk:
                raise ConnectionError("the server closed the TLS connection")
            self._buf += chunk

    # --- requests we send ------------------------------------------------------------------------
    def _request_wait(self, msg: str, cseq: int, timeout_s: float = 10) -> str:
        """Send a request, return its final response (1xx skipped), read by the reader thread or here."""
        self.send(msg)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._reader is None:
                got = self._read_one()
                if got is not None:
                    self.received.append(got)
                    if not got.startswith("SIP/2.0"):
                        self._handle_request(got)
                    else:
                        self._responses.append(got)
            else:
                time.sleep(0.02)
            for r in list(self._responses):
                if (header(r, "CSeq") or "").startswith(f"{cseq} ") and not r.startswith("SIP/2.0 1"):
                    self._responses.remove(r)
                    return r
        raise TimeoutError(f"no final response to CSeq {cseq}")

    def register(self, expires: int = 120) -> str:
        """REGISTER over TLS, answering the digest challenge; returns the final response."""
        host, port = self.server
        uri = f"sips:{host}:{port}"
        local = self.local

        def msg(cseq: int, auth: str = "") -> str:
            return (
                f"REGISTER {uri} SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS {local[0]}:{local[1]};branch=z9hG4bK-r{cseq}{time.monotonic_ns()}\r\n"
                f"From: <sips:{self.username}@{host}>;tag=reg{self.username}\r\n"
                f"To: <sips:{self.username}@{host}>\r\n"
                f"Call-ID: reg-{self.username}\r\nCSeq: {cseq} REGISTER\r\n"
                f"Contact: <sip:{self.username}@{local[0]}:{local[1]};transport=tls>\r\n"
                f"Expires: {expires}\r\n"
                f"{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
            )

        self._cseq += 1
        first = self._request_wait(msg(self._cseq), self._cseq)
        if not first.startswith("SIP/2.0 401"):
            return first
        nonce = re.search(r'nonce="([^"]+)"', first)
        assert nonce is not None, first
        ha1 = md5(f"{self.username}:{self.realm}:{self.password}")
        response = md5(f"{ha1}:{nonce.group(1)}:{md5(f'REGISTER:{uri}')}")
        auth = (
            f'Authorization: Digest username="{self.username}", realm="{self.realm}", '
            f'nonce="{nonce.group(1)}", uri="{uri}", response="{response}", algorithm=MD5\r\n'
        )
        self._cseq += 1
        return self._request_wait(msg(self._cseq, auth), self._cseq)

    # --- what arrives ----------------------------------------------------------------------------
    def serve(self) -> TlsPhone:
        """Answer requests in a thread from now on (after register)."""
        self._reader = threading.Thread(target=self._loop, daemon=True)
        self._reader.start()
        return self

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                got = self._read_one()
            except (OSError, ConnectionError, ValueError):
                return
            if got is None:
                continue
            self.received.append(got)
            if got.startswith("SIP/2.0"):
                self._responses.append(got)
            else:
                self._handle_request(got)

    def _reply(self, request: str, status: str, extra: str = "", sdp: str = "", to_tag: str = "") -> None:
        to = header(request, "To") or ""
        if to_tag and ";tag=" not in to:
            to += f";tag={to_tag}"
        vias = "".join(f"Via: {v}\r\n" for v in headers(request, "Via"))
        rrs = "".join(f"Record-Route: {v}\r\n" for v in headers(request, "Record-Route"))
        content = "Content-Type: application/sdp\r\n" if sdp else ""
        self.send(
            f"SIP/2.0 {status}\r\n{vias}{rrs}From: {header(request, 'From')}\r\nTo: {to}\r\n"
            f"Call-ID: {header(request, 'Call-ID')}\r\nCSeq: {header(request, 'CSeq')}\r\n{extra}"
            f"{content}Content-Length: {len(sdp.encode())}\r\n\r\n{sdp}"
        )

    def _handle_request(self, request: str) -> None:
        method = request.split(" ", 1)[0]
        if method == "ACK":
            return
        if method != "INVITE":
            self._reply(request, "200 OK")
            return
        if header(request, "Call-ID") == self.dialog.get("call_id"):  # a re-INVITE: the same answer
            self._reply(request, "200 OK", self._contact(), self.dialog["sdp"], self.dialog["tag"])
            return
        tag = f"tp{time.monotonic_ns()}"
        sdp = answer_sdp(body(request), self.local[0], self.media_port)
        contact = re.search(r"<([^>]+)>", header(request, "Contact") or "")
        self.dialog = {
            "call_id": header(request, "Call-ID") or "",
            "tag": tag,
            "sdp": sdp,
            "remote_target": contact.group(1) if contact else "",
            "from": header(request, "From") or "",
            "to": f"{header(request, 'To')};tag={tag}",
        }
        self._reply(request, "180 Ringing", self._contact(), to_tag=tag)
        self._reply(request, "200 OK", self._contact(), sdp, tag)

    def _contact(self) -> str:
        host, port = self.local
        return f"Contact: <sip:{self.username}@{host}:{port};transport=tls>\r\n"

    def invites(self) -> list[str]:
        return [m for m in self.received if m.startswith("INVITE ")]

    def hang_up(self) -> str:
        """BYE in the answered call's dialog; returns the final response."""
        d = self.dialog
        assert d, "no call answered"
        host, port = self.local
        self._cseq += 1
        return self._request_wait(
            f"BYE {d['remote_target']} SIP/2.0\r\n"
            f"Via: SIP/2.0/TLS {host}:{port};branch=z9hG4bK-bye{time.monotonic_ns()}\r\n"
            f"From: {d['to']}\r\nTo: {d['from']}\r\nCall-ID: {d['call_id']}\r\n"
            f"CSeq: {self._cseq + 1000} BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            self._cseq + 1000,
        )
