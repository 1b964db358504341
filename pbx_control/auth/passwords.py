"""bcrypt password hashing. Hashing and checking run in a small executor of their own (HASHING):
bcrypt is CPU heavy (hundreds of milliseconds at the default cost) and must not block the event
loop, nor, in a burst of logins, fill the default executor or take every core from the loop that
answers calls. Beyond 64 hashes waiting at once a login is refused with 503 (busy).

The cost comes from PBX_BCRYPT_ROUNDS (Settings.bcrypt_rounds, default 12; tests use 4), read once
per process, at the first hash.
"""

from __future__ import annotations

import functools
import os

import bcrypt

from pbx_control.config import Settings
from pbx_control.kernel.offload import Offload

DEFAULT_ROUNDS = Settings.bcrypt_rounds
MAX_BYTES = 72  # bcrypt ignores (bcrypt >= 5: refuses) anything longer
_dummy_hashes: dict[int, bytes] = {}
# bcrypt releases the GIL: each worker can take a core, so leave at least half of them.
HASHING = Offload(
    "bcrypt",
    workers=max(1, (os.cpu_count() or 2) // 2),
    max_pending=64,
    busy_message="too many logins at once; try again shortly",
)


@functools.cache
def rounds() -> int:
    """The cost, within what bcrypt accepts (4..31). Cached: `rounds.cache_clear()` reads it again."""
    return min(max(Settings.from_env().bcrypt_rounds, 4), 31)


def hash_password_sync(password: str, cost: int | None = None) -> str:
    data = password.encode()
    if len(data) > MAX_BYTES:
        raise ValueError(f"password longer than {MAX_BYTES} bytes")
    return bcrypt.hashpw(data, bcrypt.gensalt(rounds=cost or rounds())).decode("ascii")


def verify_password_sync(password: str, password_hash: str | None) -> bool:
    """True when `password` matches; with no hash (or one that is not bcrypt's: an account whose
    password is not set yet), spends the same time and returns False."""
    data = password.encode()
    too_long = len(data) > MAX_BYTES
    if password_hash is None or too_long or not password_hash.startswith("$2"):
        # Same work as a real check, so a missing user is not told apart by timing.
        bcrypt.checkpw(data[:MAX_BYTES], _dummy_hash())
        return False
    try:
        return bcrypt.checkpw(data, password_hash.encode("ascii"))
    except ValueError:
        return False


def _dummy_hash() -> bytes:
    cost = rounds()
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = bcrypt.hashpw(b"no such user", bcrypt.gensalt(rounds=cost))
    return _dummy_hashes[cost]


async def hash_password(password: str) -> str:
    return await HASHING.run(hash_password_sync, password)


async def verify_password(password: str, password_hash: str | None) -> bool:
    return await HASHING.run(verify_password_sync, password, password_hash)
