"""A phone's media port played by a test: count the RTP Asterisk sends there, and the RFC 4733
key presses (telephone-event) in it. SIPp's scenarios point their SDP here (media_port)."""

from __future__ import annotations

import math
import socket
import threading
import time
from types import TracebackType

DTMF_PT = 101
_EVENTS = "0123456789*#ABCD"


class RtpListener:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.arrivals: list[tuple[float, int]] = []  # (monotonic time, payload type)
        self.loud: list[float] = []  # when G.711 packets that are not silence arrived
        self._digits: list[str] = []
        self._seen_ends: set[int] = set()  # RTP timestamps of events already ended
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RtpListener:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) < 12:
                continue
            pt = data[1] & 0x7F
            now = time.monotonic()
            with self._lock:
                self.arrivals.append((now, pt))
                if pt in (0, 8) and _loud(data[12:], pt):
                    self.loud.append(now)
                if pt == DTMF_PT and len(data) >= 16 and data[13] & 0x80:  # the event's end bit
                    stamp = int.from_bytes(data[4:8], "big")
                    if stamp not in self._seen_ends and data[12] < len(_EVENTS):
                        self._seen_ends.add(stamp)  # the end is sent three times
                        self._digits.append(_EVENTS[data[12]])

    def send_audio(
        self, host: str, port: int, packets: int = 50, interval_s: float = 0.02, tone_hz: float = 0.0
    ) -> None:
        """PCMU packets (20 ms each) from this port to host:port, as a phone sends them: silence,
        or a sine of `tone_hz` (a voice-like sound a recording keeps)."""
        ssrc = 0x5EC0DE01
        for seq in range(packets):
            header = bytes([0x80, 0]) + seq.to_bytes(2, "big") + (seq * 160).to_bytes(4, "big")
            payload = _tone(tone_hz, seq * 160) if tone_hz else b"\xff" * 160
            self._sock.sendto(header + ssrc.to_bytes(4, "big") + payload, (host, port))
            time.sleep(interval_s)

    def send_digits(self, host: str, port: int, digits: str) -> None:
        """Key presses as a phone sends them (RFC 4733 telephone-event, payload type 101): each
        digit 100 ms long, its end packet three times, then 100 ms apart."""
        ssrc, seq, stamp = 0x5EC0DE02, 0, 0
        for digit in digits:
            event = _EVENTS.index(digit)
            stamp += 1600
            for n in range(8):
                end = n >= 5
                marker = 0x80 if n == 0 else 0
                header = bytes([0x80, marker | DTMF_PT]) + seq.to_bytes(2, "big") + stamp.to_bytes(4, "big")
                payload = bytes([event, (0x80 if end else 0) | 10]) + (min(n + 1, 5) * 160).to_bytes(2, "big")
                self._sock.sendto(header + ssrc.to_bytes(4, "big") + payload, (host, port))
                seq += 1
                time.sleep(0.02)
            time.sleep(0.1)

    def count(self, since: float = 0.0) -> int:
        """Audio packets (not key presses) received since `since` (time.monotonic())."""
        with self._lock:
            return sum(1 for t, pt in self.arrivals if t >= since and pt != DTMF_PT)

    def loud_count(self, since: float = 0.0) -> int:
        """G.711 packets with sound in them (not silence) received since `since`."""
        with self._lock:
            return sum(1 for t in self.loud if t >= since)

    @property
    def digits(self) -> str:
        with self._lock:
            return "".join(self._digits)


def _loud(payload: bytes, pt: int) -> bool:
    """A G.711 payload with a sample clearly above silence (|x| > 1000 of 32767)."""
    return any(abs(_g711(b, pt)) > 1000 for b in payload)


def _g711(byte: int, pt: int) -> int:
    if pt == 0:  # mu-law
        b = ~byte & 0xFF
        magnitude = ((((b & 0x0F) << 3) + 0x84) << ((b & 0x70) >> 4)) - 0x84
        return -magnitude if b & 0x80 else magnitude
    a = byte ^ 0x55  # A-law
    seg = (a & 0x70) >> 4
    value = ((a & 0x0F) << 4) + 8 if seg == 0 else (((a & 0x0F) << 4) + 0x108) << (seg - 1)
    return value if a & 0x80 else -value


def with_media(scenario_xml: str, port: int) -> str:
    """A SIPp scenario whose SDP sends Asterisk's audio to `port` and offers telephone-event."""
    return scenario_xml.replace(
        "m=audio [media_port] RTP/AVP 0 8", f"m=audio {port} RTP/AVP 0 8 101"
    ).replace("a=sendrecv", "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-16\na=sendrecv")


def _ulaw(sample: int) -> int:
    """G.711 mu-law of a 16-bit sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _tone(hz: float, first_sample: int, amplitude: int = 8000) -> bytes:
    return bytes(
        _ulaw(int(amplitude * math.sin(2 * math.pi * hz * (first_sample + i) / 8000))) for i in range(160)
    )
