"""Meeting participants played by SIPp: dial in, type PINs (SIP INFO key presses, which
Asterisk turns into DTMF for Read()), optionally play a recording into the room, stay, hang up (or
be hung up on)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import aiohttp

from tests.support import sipp_scenarios
from tests.support.rtp import with_media
from tests.support.sipp import Phone, SippRun

DIAL_IN = "*80"
RECORDING = "/usr/share/sip-tester/g711a.pcap"  # about 8 s of speech, PCMA


def _info(digit: str, cseq: int) -> str:
    body = f"Signal={digit}\r\nDuration=160\r\n"
    return (
        "<send><![CDATA[\n"
        "INFO [$remote_uri] SIP/2.0\n"
        "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
        "From: <sip:[service]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]\n"
        "To:[$dialog_to]\n"
        "Call-ID: [call_id]\n"
        f"CSeq: {cseq} INFO\n"
        "Max-Forwards: 70\n"
        "Content-Type: application/dtmf-relay\n"
        "Content-Length: [len]\n"
        "\n"
        f"{body}"
        "]]></send>\n"
        '<recv response="200"/>\n'
        '<pause milliseconds="150"/>'
    )


def join_scenario(
    entries: list[str],
    *,
    hold_ms: int,
    first_pause_ms: int = 2500,
    between_ms: int = 3000,
    play: bool = False,
) -> str:
    """Dial in, wait for the prompt, type each entry followed by #, then stay `hold_ms` (the room
    may hang up first: three wrong PINs)."""
    xml = sipp_scenarios.call(DIAL_IN, hold_ms=hold_ms, remote_may_hang_up=True)
    steps = [f'<pause milliseconds="{first_pause_ms}"/>']
    cseq = 10
    for n, entry in enumerate(entries):
        if n:
            steps.append(f'<pause milliseconds="{between_ms}"/>')
        for digit in entry + "#":
            steps.append(_info(digit, cseq))
            cseq += 1
    if play:
        steps.append(f'<nop><action><exec play_pcap_audio="{RECORDING}"/></action></nop>')
    xml = xml.replace('<label id="hold"/>', "\n  ".join(steps) + '\n  <label id="hold"/>', 1)
    # the hang-up comes after the key presses in the dialog
    return xml.replace("CSeq: 3 BYE", "CSeq: 999 BYE")


def join(
    p: Phone,
    entries: list[str],
    *,
    hold_ms: int,
    media_port: int | None = None,
    play: bool = False,
    between_ms: int = 3000,
) -> SippRun:
    xml = join_scenario(entries, hold_ms=hold_ms, play=play, between_ms=between_ms)
    if play:
        xml = xml.replace("m=audio [media_port] RTP/AVP 0 8", "m=audio [media_port] RTP/AVP 8")
    elif media_port is not None:
        xml = with_media(xml, media_port)
    timeout = (hold_ms + 2500 + len(entries) * (between_ms + 2500)) / 1000 + 20
    return p._start(xml, "meeting", remote=True, timeout_s=timeout)


class EventTap:
    """The organization's live events WebSocket, read on a thread of its own into `events`."""

    def __init__(self, api_base: str, token: str) -> None:
        self.url = api_base.replace("http://", "ws://", 1) + "/events"
        self.token = token
        self.events: list[dict[str, Any]] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> EventTap:
        self._thread.start()
        assert self._ready.wait(10), "the events socket did not open"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    async def _run(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.url, headers={"Authorization": f"Bearer {self.token}"}) as ws,
        ):
            self._ready.set()
            stop = asyncio.ensure_future(self._stop.wait())
            while not self._stop.is_set():
                got = asyncio.ensure_future(ws.receive())
                await asyncio.wait({got, stop}, return_when=asyncio.FIRST_COMPLETED)
                if not got.done():
                    got.cancel()
                    break
                msg = got.result()
                if msg.type != aiohttp.WSMsgType.TEXT:
                    break
                self.events.append(json.loads(msg.data))

    def of_meeting(self, meeting_id: int) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("meeting", {}).get("id") == meeting_id]

    def of_conference(self, conference_id: int) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e.get("conference", {}).get("id") == conference_id]
