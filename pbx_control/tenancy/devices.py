"""Devices: a user's SIP accounts (desk phone, mobile app, softphone, web client).

The sip_username is the PJSIP endpoint, aor and auth id, globally unique and permanent (it does
not follow later extension changes). Only md5(sip_username:SIP_REALM:password) is stored; the
password is returned once, at creation or reset.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from pbx_control.kernel.db import Conn, Db, rows, transaction
from pbx_control.kernel.errors import Invalid, NotFound
from pbx_control.tenancy import validation as v

# Must equal the realm in the ps_auths view (pbx_control/sql/001_foundation.sql).
SIP_REALM = "pbx-control"
KINDS = ("desk", "mobile", "desktop", "web")
TRANSPORTS = ("udp", "tls")
MEDIA_ENCRYPTIONS = ("none", "sdes")
MIN_SIP_PASSWORD = 12
_SELECT = (
    "SELECT id, user_id, organization_id, kind, label, sip_username, transport, media_encryption, created_at"
    " FROM devices"
)
_INSERT = (
    "INSERT INTO devices (user_id, organization_id, kind, label, sip_username, sip_md5_cred, transport,"
    " media_encryption) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, user_id, organization_id,"
    " kind, label, sip_username, transport, media_encryption, created_at"
)


def md5_cred(sip_username: str, password: str, realm: str = SIP_REALM) -> str:
    """What Asterisk's md5 auth compares against: md5(username:realm:password) in hex."""
    return hashlib.md5(f"{sip_username}:{realm}:{password}".encode(), usedforsecurity=False).hexdigest()


def check_security(kind: str, transport: str, media_encryption: str) -> None:
    """How a device is reached and whether its media is encrypted (sql/029_sip_security.sql)."""
    if transport not in TRANSPORTS:
        raise Invalid(f"transport must be one of {', '.join(TRANSPORTS)}")
    if media_encryption not in MEDIA_ENCRYPTIONS:
        raise Invalid(f"media_encryption must be one of {', '.join(MEDIA_ENCRYPTIONS)}")
    if kind == "web" and (transport, media_encryption) != ("udp", "none"):
        raise Invalid(
            "a web device always uses SIP over WebSocket and DTLS-SRTP:"
            " transport and media_encryption do not apply"
        )
    if media_encryption == "sdes" and transport != "tls":
        raise Invalid(
            "media_encryption sdes needs transport tls: the SRTP keys travel in the SDP,"
            " readable by anyone on the path over UDP"
        )


def generate_password() -> str:
    """24 URL-safe characters (144 random bits)."""
    return secrets.token_urlsafe(18)


async def create_device(
    db: Db,
    org_id: int,
    user_id: int,
    kind: str,
    label: str = "",
    sip_username: str | None = None,
    password: str | None = None,
    transport: str = "udp",
    media_encryption: str = "none",
) -> tuple[dict[str, Any], str]:
    """Create a device for a user of `org_id`; return (device, password). The password is
    generated unless given (then at least 12 printable ASCII characters); the sip_username is
    `<slug>_<extension>_<n>` unless given."""
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    check_security(kind, transport, media_encryption)
    label = v.label(label)
    if sip_username is not None:
        v.sip_username(sip_username)
    password = generate_password() if password is None else v.sip_password(password, MIN_SIP_PASSWORD)
    async with transaction(db) as conn:
        owner = await conn.fetchrow(
            "SELECT u.extension, o.slug FROM users u JOIN organizations o ON o.id = u.organization_id"
            " WHERE u.id = $2 AND u.organization_id = $1 FOR UPDATE OF u",
            org_id,
            user_id,
        )
        if owner is None:
            raise NotFound("user not found")
        if sip_username is None:
            sip_username = await _next_sip_username(conn, owner["slug"], owner["extension"])
        rec = await conn.fetchrow(
            _INSERT,
            user_id,
            org_id,
            kind,
            label,
            sip_username,
            md5_cred(sip_username, password),
            transport,
            media_encryption,
        )
    assert rec is not None  # RETURNING gives the row back
    return dict(rec), password


async def update_device(db: Db, org_id: int, device_id: int, changes: dict[str, Any]) -> dict[str, Any]:
    """Change a device's label, transport or media_encryption (the others stay); the combination
    after the change must be allowed (check_security). Asterisk reads the endpoint again at once
    (the sip cache trigger of sql/020)."""
    async with transaction(db) as conn:
        rec = await conn.fetchrow(
            f"{_SELECT} WHERE id = $2 AND organization_id = $1 FOR UPDATE", org_id, device_id
        )
        if rec is None:
            raise NotFound("device not found")
        new = {**dict(rec), **changes}
        new["label"] = v.label(new["label"])
        check_security(new["kind"], new["transport"], new["media_encryption"])
        out = await conn.fetchrow(
            "UPDATE devices SET label = $3, transport = $4, media_encryption = $5"
            " WHERE id = $2 AND organization_id = $1 RETURNING id, user_id, organization_id,"
            " kind, label, sip_username, transport, media_encryption, created_at",
            org_id,
            device_id,
            new["label"],
            new["transport"],
            new["media_encryption"],
        )
    assert out is not None
    return dict(out)


async def _next_sip_username(conn: Conn, slug: str, extension: str) -> str:
    prefix = f"{slug}_{extension}_"
    taken = await conn.fetch("SELECT sip_username FROM devices WHERE starts_with(sip_username, $1)", prefix)
    pattern = re.compile(re.escape(prefix) + r"([0-9]+)$")
    used = {int(m.group(1)) for r in taken if (m := pattern.match(r["sip_username"]))}
    n = 1
    while n in used:
        n += 1
    return v.sip_username(f"{prefix}{n}")


async def list_devices(db: Db, org_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
    """The organization's devices, or one user's (an unknown user has none)."""
    recs = await db.fetch(
        f"{_SELECT} WHERE organization_id = $1 AND ($2::bigint IS NULL OR user_id = $2) ORDER BY id",
        org_id,
        user_id,
    )
    return rows(recs)


async def get_device(db: Db, org_id: int, device_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(f"{_SELECT} WHERE id = $2 AND organization_id = $1", org_id, device_id)
    if rec is None:
        raise NotFound("device not found")
    return dict(rec)


async def reset_password(
    db: Db, org_id: int, device_id: int, password: str | None = None
) -> tuple[dict[str, Any], str]:
    """Set a new SIP password (generated unless given); return (device, password)."""
    password = generate_password() if password is None else v.sip_password(password, MIN_SIP_PASSWORD)
    async with transaction(db) as conn:
        device = await get_device(conn, org_id, device_id)
        await conn.execute(
            "UPDATE devices SET sip_md5_cred = $3 WHERE id = $2 AND organization_id = $1",
            org_id,
            device_id,
            md5_cred(device["sip_username"], password),
        )
    return device, password


async def delete_device(db: Db, org_id: int, device_id: int) -> str:
    """Delete the device; returns its sip_username (for what Asterisk still holds: sessions.py)."""
    name: str | None = await db.fetchval(
        "DELETE FROM devices WHERE id = $2 AND organization_id = $1 RETURNING sip_username", org_id, device_id
    )
    if name is None:
        raise NotFound("device not found")
    return name
