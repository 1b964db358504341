"""WebSocket text frames built once per event (RFC 6455, server to client: unmasked, uncompressed),
so fanning an event out to N clients costs N transport writes and nothing else."""

from __future__ import annotations

import struct


def text_frame(text: str) -> bytes:
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", 0x81, 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 127, n)
    return head + payload


def frame_texts(data: bytes) -> list[str]:
    """The texts of the frames made by text_frame, one after the other in `data` (tests, tools)."""
    texts = []
    pos = 0
    while pos < len(data):
        if data[pos] != 0x81:
            raise ValueError("not a final text frame")
        n, pos = data[pos + 1] & 0x7F, pos + 2
        if n == 126:
            (n,), pos = struct.unpack_from("!H", data, pos), pos + 2
        elif n == 127:
            (n,), pos = struct.unpack_from("!Q", data, pos), pos + 8
        if pos + n > len(data):
            raise ValueError("truncated frame")
        texts.append(data[pos : pos + n].decode())
        pos += n
    return texts
