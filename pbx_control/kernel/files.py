"""Files other processes read while we write them (Asterisk's dialplan includes, the shared root's
name files): replaced whole, never truncated in place."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def replace_if_changed(target: Path, content: bytes) -> bool:
    """Write `target` through a temporary file beside it and a rename, unless it already holds
    `content`; True when it changed. A reader sees the old file or the new one, never half of one;
    the temporary name is unique, so processes writing the same file do not collide."""
    if target.exists() and target.read_bytes() == content:
        return False
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        tmp.write_bytes(content)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return True
