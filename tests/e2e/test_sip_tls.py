"""SIP over TLS: a device told the TLS port registers there with its digest password (Python's ssl
module as the phone: this SIPp is built without TLS)."""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
import time

import pytest

from tests.e2e.conftest import E2E
from tests.support.api import Api
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.security]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest is MD5


def _register(tls: ssl.SSLSocket, user: str, host: str, port: int, cseq: int, auth: str = "") -> str:
    local = tls.getsockname()
    msg = (
        f"REGISTER sips:{host}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/TLS {local[0]}:{local[1]};branch=z9hG4bK-tls{cseq}{time.monotonic_ns()}\r\n"
        f"From: <sips:{user}@{host}>;tag=tls1\r\nTo: <sips:{user}@{host}>\r\n"
        f"Call-ID: tls-{user}\r\nCSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:{user}@{local[0]}:{local[1]};transport=tls>\r\nExpires: 60\r\n"
        f"{auth}Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    )
    tls.sendall(msg.encode())
    data = b""
    deadline = time.monotonic() + 5
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        data += tls.recv(4096)
    return data.decode(errors="replace")


def test_a_device_registers_over_tls(e2e: E2E, platform: Api) -> None:
    org = new_org(platform)
    admin_user = org.add_user("1001", "Anna", devices=0)
    created = org.admin.post(f"/users/{admin_user.id}/devices", {"kind": "desk"}, expect=201)
    sip = created["sip"]
    port = e2e.stack.ports.sip_tls
    assert sip["tls_port"] == port
    user, password = sip["username"], sip["password"]

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the stack's self-signed certificate
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw) as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            first = _register(tls, user, "127.0.0.1", port, 1)
            assert first.startswith("SIP/2.0 401"), first
            nonce = re.search(r'nonce="([^"]+)"', first)
            assert nonce is not None, first
            uri = f"sips:127.0.0.1:{port}"
            ha1 = _md5(f"{user}:{sip['realm']}:{password}")
            response = _md5(f"{ha1}:{nonce.group(1)}:{_md5(f'REGISTER:{uri}')}")
            auth = (
                f'Authorization: Digest username="{user}", realm="{sip["realm"]}", '
                f'nonce="{nonce.group(1)}", uri="{uri}", response="{response}", algorithm=MD5\r\n'
            )
            second = _register(tls, user, "127.0.0.1", port, 2, auth)
            assert second.startswith("SIP/2.0 200"), second
            # a wrong password over TLS is still refused
            bad = auth.replace(response, _md5("wrong"))
            third = _register(tls, user, "127.0.0.1", port, 3, bad)
            assert third.startswith("SIP/2.0 401"), third
