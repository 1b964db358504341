"""Hold music without a sound package: a short, quiet tune of sine tones, written as a WAV file that
Asterisk plays (8 kHz, 16-bit, mono) in the musiconhold.conf default class."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000
# (frequency in Hz, beats); 0 Hz is a rest. A calm arpeggio in C major.
_TUNE = [(523, 1), (659, 1), (784, 1), (659, 1), (587, 1), (698, 1), (880, 2), (0, 1),
         (523, 1), (659, 1), (784, 2), (698, 1), (587, 1), (523, 2), (0, 2)]  # fmt: skip
_BEAT_S = 0.3
FILE_NAME = "pbx-tune.wav"


def tune_frames() -> bytes:
    out = bytearray()
    for freq, beats in _TUNE:
        n = int(RATE * _BEAT_S * beats)
        for i in range(n):
            envelope = min(1.0, i / 200, (n - i) / 400)  # no clicks between notes
            sample = 0.15 * envelope * math.sin(2 * math.pi * freq * i / RATE) if freq else 0.0
            out += struct.pack("<h", int(sample * 32767))
    return bytes(out)


def write_tune(directory: Path) -> Path:
    """Write the tune into `directory` (once; it never changes)."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / FILE_NAME
    if not target.exists():
        tmp = target.with_suffix(".tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(tune_frames())
        tmp.rename(target)
    return target
