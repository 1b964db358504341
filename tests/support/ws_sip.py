"""A tiny SIP-over-WebSocket client (RFC 7118), as a browser softphone speaks it: REGISTER with
digest authentication from the HA1 the API hands out (what JsSIP's `ha1` option does)."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable

import aiohttp


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _status(message: str) -> int:
    return int(message.split(" ", 2)[1])


def _challenge(message: str) -> dict[str, str]:
    line = next(h for h in message.split("\r\n") if h.lower().startswith("www-authenticate:"))
    return dict(re.findall(r'(\w+)="?([^",]*)"?', line.split(":", 1)[1]))


class WsSipClient:
    def __init__(self, ws_url: str, domain: str, username: str, ha1: str) -> None:
        self.ws_url, self.domain, self.username, self.ha1 = ws_url, domain, username, ha1
        self.host = f"{secrets.token_hex(6)}.invalid"
        self.call_id = secrets.token_hex(12)
        self.tag = secrets.token_hex(5)
        self.cseq = 0

    def _register(self, expires: int, authorization: str = "") -> str:
        self.cseq += 1
        uri = f"sip:{self.domain}"
        lines = [
            f"REGISTER {uri} SIP/2.0",
            f"Via: SIP/2.0/WS {self.host};branch=z9hG4bK{secrets.token_hex(8)}",
            "Max-Forwards: 70",
            f"To: <sip:{self.username}@{self.domain}>",
            f"From: <sip:{self.username}@{self.domain}>;tag={self.tag}",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} REGISTER",
            f"Contact: <sip:{self.username}@{self.host};transport=ws>;expires={expires}",
            "User-Agent: pbx-control-tests",
        ]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        return "\r\n".join([*lines, "Content-Length: 0", "", ""])

    def _authorization(self, challenge: dict[str, str]) -> str:
        uri = f"sip:{self.domain}"
        nonce, realm = challenge["nonce"], challenge["realm"]
        ha2 = _md5(f"REGISTER:{uri}")
        cnonce, nc = secrets.token_hex(8), "00000001"
        response = _md5(f"{self.ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        parts = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{uri}"',
            f'response="{response}"',
            "algorithm=MD5",
            f'cnonce="{cnonce}"',
            "qop=auth",
            f"nc={nc}",
        ]
        if "opaque" in challenge:
            parts.append(f'opaque="{challenge["opaque"]}"')
        return "Digest " + ", ".join(parts)

    async def register(
        self, expires: int = 120, timeout_s: float = 10, while_registered: Callable[[], object] | None = None
    ) -> tuple[int, str]:
        """REGISTER over one WebSocket connection; (final status, last response). With a 200,
        `while_registered` runs (in a thread) before the connection closes, which ends the
        registration."""
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(self.ws_url, protocols=("sip",)) as ws,
        ):
            await ws.send_str(self._register(expires))
            reply = await self._final(ws, timeout_s)
            if _status(reply) == 401:
                await ws.send_str(self._register(expires, self._authorization(_challenge(reply))))
                reply = await self._final(ws, timeout_s)
            if while_registered is not None and _status(reply) == 200:
                await asyncio.to_thread(while_registered)
            return _status(reply), reply

    async def _final(self, ws: aiohttp.ClientWebSocketResponse, timeout_s: float) -> str:
        async with asyncio.timeout(timeout_s):
            while True:
                msg = await ws.receive()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"WebSocket ended: {msg.type}")
                text: str = msg.data
                if text.startswith("SIP/2.0 ") and _status(text) >= 200:
                    return text
