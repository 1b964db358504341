"""Checking a username and password. A wrong username and a wrong password look the same and take
about the same time (a missing user is checked against a dummy hash)."""

from __future__ import annotations

from typing import Any

from pbx_control.auth.passwords import verify_password
from pbx_control.kernel.db import Db

_SELECT = (
    "SELECT id, organization_id, extension, name, username, email, role, language, ring_time,"
    " created_at, password_hash FROM users WHERE username = $1"
)


async def authenticate(db: Db, username: str, password: str) -> dict[str, Any] | None:
    """The user (without the hash) when username and password match, else None."""
    key = username.strip().lower() if isinstance(username, str) else ""
    rec = None
    if 0 < len(key) <= 100:
        rec = await db.fetchrow(_SELECT, key)
    password_hash = rec["password_hash"] if rec is not None else None
    if not await verify_password(password if isinstance(password, str) else "", password_hash):
        return None
    assert rec is not None
    user = dict(rec)
    del user["password_hash"]
    return user
