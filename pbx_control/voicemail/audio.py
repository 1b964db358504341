"""Audio: HTTP byte ranges of a message (pure, tested as a table) and greetings converted to what
Asterisk plays (8 kHz mono 16-bit WAV, sox in a subprocess, never on a call's path)."""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import wave
from pathlib import Path

from pbx_control.kernel.errors import Invalid
from pbx_control.kernel.offload import run_program

MAX_GREETING_BYTES = 10 * 1024 * 1024
MAX_GREETING_SECONDS = 120
MIN_GREETING_SECONDS = 0.5
TIMEOUT_S = 20.0
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


class RangeNotSatisfiable(Exception):
    """The asked range is outside the file (HTTP 416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a `Range: bytes=...` header, None for the whole file (no header,
    or one we do not serve such as several ranges: RFC 9110 lets a server ignore it). Raises
    RangeNotSatisfiable for a range that starts past the end (or an empty file)."""
    if not header:
        return None
    m = _RANGE.fullmatch(header.strip())
    if m is None:
        return None
    first_s, last_s = m.groups()
    if first_s == "" and last_s == "":
        return None
    if first_s == "":  # the last N bytes
        n = int(last_s)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - n), size - 1
    first = int(first_s)
    if first >= size:
        raise RangeNotSatisfiable
    last = int(last_s) if last_s else size - 1
    if last < first:
        return None
    return first, min(last, size - 1)


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        frames: int = w.getnframes()
        rate: int = w.getframerate()
    return frames / float(rate or 1)


async def greeting_wav(upload: bytes) -> tuple[bytes, float]:
    """The uploaded file as Asterisk plays it, and its length. Not audio sox can read, silent-short
    or longer than MAX_GREETING_SECONDS: Invalid (400)."""
    if not upload:
        raise Invalid("the greeting must be an audio file (WAV, FLAC, OGG, AIFF...)", code="not_audio")
    with tempfile.TemporaryDirectory(prefix="pbx-greeting-") as tmp:
        src = Path(tmp) / f"upload-{secrets.token_hex(4)}"
        out = Path(tmp) / "greeting.wav"
        src.write_bytes(upload)
        code, _err = await run_program(
            "sox",
            "-V1",
            str(src),
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            str(out),
            timeout_s=TIMEOUT_S,
        )
        if code != 0 or not out.exists():
            raise Invalid("the greeting must be an audio file (WAV, FLAC, OGG, AIFF...)", code="not_audio")
        data = out.read_bytes()
    try:
        seconds = wav_seconds(data)
    except (wave.Error, EOFError):
        raise Invalid("the greeting must be an audio file", code="not_audio") from None
    if seconds < MIN_GREETING_SECONDS:
        raise Invalid("the greeting is too short (at least half a second)", code="too_short")
    if seconds > MAX_GREETING_SECONDS:
        raise Invalid(f"the greeting is too long (at most {MAX_GREETING_SECONDS} s)", code="too_long")
    return data, round(seconds, 2)
