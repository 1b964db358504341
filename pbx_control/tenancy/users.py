"""Users of an organization (and platform admins, who belong to none).

Every function takes the organization id and only ever sees that organization's users. The
password hash never leaves this module's SQL (auth.login reads it for logins).
"""

from __future__ import annotations

from typing import Any

from pbx_control.auth.passwords import hash_password, verify_password
from pbx_control.kernel.db import Conn, Db, rows, transaction
from pbx_control.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from pbx_control.tenancy import validation as v

COLUMNS = "id, organization_id, extension, name, username, email, role, language, ring_time, created_at"
_SELECT = (
    "SELECT id, organization_id, extension, name, username, email, role, language, ring_time,"
    " created_at FROM users"
)
_INSERT = (
    "INSERT INTO users (organization_id, extension, name, username, email, password_hash,"
    " role, language, ring_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " RETURNING id, organization_id, extension, name, username, email, role, language, ring_time,"
    " created_at"
)
# Not a bcrypt hash: no password matches it (passwords.verify_password).
NO_PASSWORD = "!"  # noqa: S105 (a marker, not a password)
_UPDATABLE = ("extension", "name", "username", "email", "role", "language", "ring_time", "password")


async def create_user(
    db: Db,
    org_id: int | None,
    extension: str | None,
    name: str,
    username: str,
    password: str | None,
    role: str = "user",
    language: str = "sv",
    email: str | None = None,
    ring_time: int = 30,
) -> dict[str, Any]:
    """Create a user in `org_id`. A platform admin is role "platform" with org_id and extension None.
    Without a password (None) nobody can sign in as the user until a set-password link (the
    welcome mail's) sets one: that needs a mail address."""
    if role == "platform":
        if org_id is not None or extension is not None:
            raise Invalid("a platform admin belongs to no organization and has no extension")
    else:
        if org_id is None:
            raise Invalid("organization is required")
        v.role(role)
        v.extension(extension)
    checked_email = v.email(email)
    if password is None and checked_email is None:
        raise Invalid("password is required unless email is given (the welcome mail then sets it)")
    params = (
        org_id,
        extension,
        v.name(name),
        v.username(username),
        checked_email,
        await hash_password(v.user_password(password)) if password is not None else NO_PASSWORD,
        role,
        v.language(language),
        v.ring_time(ring_time),
    )
    async with transaction(db) as conn:
        if org_id is not None:
            await _lock_organization(conn, org_id)
        rec = await conn.fetchrow(
            _INSERT,
            *params,
        )
    assert rec is not None  # RETURNING gives the row back
    return dict(rec)


async def create_platform_admin(
    db: Db, name: str, username: str, password: str, email: str | None = None, language: str = "en"
) -> dict[str, Any]:
    return await create_user(db, None, None, name, username, password, "platform", language, email)


async def list_users(db: Db, org_id: int) -> list[dict[str, Any]]:
    recs = await db.fetch(f"{_SELECT} WHERE organization_id = $1 ORDER BY extension, id", org_id)
    return rows(recs)


async def get_user(db: Db, org_id: int | None, user_id: int) -> dict[str, Any]:
    """One user of `org_id`; with org_id None, only a platform admin is found (for /users/me)."""
    rec = await db.fetchrow(
        f"{_SELECT} WHERE id = $2 AND organization_id IS NOT DISTINCT FROM $1",
        org_id,
        user_id,
    )
    if rec is None:
        raise NotFound("user not found")
    return dict(rec)


async def update_user(db: Db, org_id: int, user_id: int, **fields: object) -> dict[str, Any]:
    """Change any of extension, name, username, email, role, language, ring_time, password.

    The devices keep their sip_username (the endpoint id) when the extension changes. Demoting the
    organization's last admin is refused (Conflict).
    """
    unknown = set(fields) - set(_UPDATABLE)
    if unknown:
        raise Invalid(f"cannot update {', '.join(sorted(unknown))}")
    if not fields:
        raise Invalid("nothing to update")
    checks = {
        "extension": v.extension,
        "name": v.name,
        "username": v.username,
        "email": v.email,
        "role": v.role,
        "language": v.language,
        "ring_time": v.ring_time,
    }
    values = {k: checks[k](fields[k]) for k in _UPDATABLE if k in fields and k != "password"}
    if "password" in fields:
        values["password_hash"] = await hash_password(v.user_password(fields["password"]))
    sets = ", ".join(f"{col} = ${i}" for i, col in enumerate(values, start=3))
    async with transaction(db) as conn:
        await _lock_organization(conn, org_id)
        current = await get_user(conn, org_id, user_id)
        if current["role"] == "admin" and values.get("role", "admin") != "admin":
            await _ensure_other_admin(conn, org_id, user_id)
        rec = await conn.fetchrow(
            f"UPDATE users SET {sets} WHERE id = $2 AND organization_id = $1 RETURNING {COLUMNS}",  # noqa: S608
            org_id,
            user_id,
            *values.values(),
        )
    assert rec is not None  # the row exists: get_user found it under the organization's lock
    return dict(rec)


async def change_own_password(db: Db, org_id: int | None, user_id: int, current: str, new: str) -> None:
    """A user sets their own password: `new` must pass the password rules (Invalid), `current`
    must be their password now (Forbidden). The caller revokes their other tokens."""
    new = v.user_password(new)
    password_hash = await db.fetchval(
        "SELECT password_hash FROM users WHERE id = $2 AND organization_id IS NOT DISTINCT FROM $1",
        org_id,
        user_id,
    )
    if password_hash is None:
        raise NotFound("user not found")
    if not await verify_password(current if isinstance(current, str) else "", password_hash):
        raise Forbidden("the current password is wrong")
    new_hash = await hash_password(new)
    await db.execute(
        "UPDATE users SET password_hash = $3 WHERE id = $2 AND organization_id IS NOT DISTINCT FROM $1",
        org_id,
        user_id,
        new_hash,
    )


async def delete_user(db: Db, org_id: int, user_id: int) -> list[str]:
    """Delete a user with their devices and tokens; their numbers become unassigned. Returns the
    sip_usernames of the devices deleted with them (for what Asterisk still holds: sessions.py)."""
    async with transaction(db) as conn:
        await _lock_organization(conn, org_id)
        current = await get_user(conn, org_id, user_id)
        if current["role"] == "admin":
            await _ensure_other_admin(conn, org_id, user_id)
        names = await conn.fetch(
            "DELETE FROM devices WHERE user_id = $1 AND organization_id = $2 RETURNING sip_username",
            user_id,
            org_id,
        )
        await conn.execute("DELETE FROM users WHERE id = $2 AND organization_id = $1", org_id, user_id)
    return [r["sip_username"] for r in names]


async def _lock_organization(conn: Conn, org_id: int) -> None:
    """Serialize user changes per organization (keeps the last-admin check honest)."""
    found = await conn.fetchval("SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE", org_id)
    if found is None:
        raise NotFound("organization not found")


async def _ensure_other_admin(conn: Conn, org_id: int, user_id: int) -> None:
    others = await conn.fetchval(
        "SELECT count(*) FROM users WHERE organization_id = $1 AND role = 'admin' AND id <> $2",
        org_id,
        user_id,
    )
    if not others:
        raise Conflict("the organization must keep at least one admin")
