"""The demo organization `make run` seeds once: three users, their devices, two numbers, a trunk.

Passwords are random, generated at the first seed and kept in a 0600 file in the state dir, so each
`make run` can print them again. Only `make run` (the `stack` command) seeds it, never production.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import asyncpg

from pbx_control.config import Settings
from pbx_control.tenancy import devices, numbers, organizations, trunks, users

DEMO_SLUG = "demo"
DEMO_USERS = (
    # extension, name, username, role, language, device kinds, DID
    ("1001", "Anna Svensson", "anna", "admin", "sv", ("desk", "mobile"), "+46812345601"),
    ("1002", "Bo Ek", "bo", "user", "sv", ("desk",), "+46812345602"),
    ("1003", "Cecilia Berg", "cecilia", "operator", "en", ("desktop",), None),
)
PLATFORM_ADMIN = "platform"


def _password() -> str:
    return secrets.token_urlsafe(12)


def load_credentials(credentials_file: Path) -> dict[str, Any] | None:
    return json.loads(credentials_file.read_text()) if credentials_file.exists() else None


def save_credentials(credentials_file: Path, creds: dict[str, Any]) -> None:
    credentials_file.parent.mkdir(parents=True, exist_ok=True)
    credentials_file.write_text(json.dumps(creds, indent=2))
    credentials_file.chmod(0o600)


async def seed(
    pool: asyncpg.Pool, known: dict[str, Any] | None, settings: Settings
) -> tuple[dict[str, Any], bool]:
    """Create the demo organization unless it exists and its credentials are known; its carrier
    trunk goes to settings.trunk_host:trunk_port. Return the credentials to print, and whether
    they are new (to be saved)."""
    if known is not None:
        exists = await pool.fetchval("SELECT 1 FROM organizations WHERE slug = $1", DEMO_SLUG)
        if exists:
            return known, False
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM organizations WHERE slug = $1", DEMO_SLUG)
        await conn.execute("DELETE FROM users WHERE username = $1", PLATFORM_ADMIN)
        await conn.execute("DELETE FROM trunks WHERE name = 'carrier'")
        host, port = settings.trunk_host, settings.trunk_port
        await trunks.create_trunk(conn, "carrier", host, port, host)
        org = await organizations.create_organization(conn, DEMO_SLUG, "Demo AB", "+46812345600")
        creds: dict[str, Any] = {"organization": DEMO_SLUG, "users": [], "platform_admin": {}}
        for ext, name, username, role, lang, kinds, did in DEMO_USERS:
            password = _password()
            user = await users.create_user(conn, org["id"], ext, name, username, password, role, lang)
            entry: dict[str, Any] = {
                "extension": ext,
                "name": name,
                "username": username,
                "password": password,
                "role": role,
                "devices": [],
            }
            for kind in kinds:
                dev, sip_password = await devices.create_device(conn, org["id"], user["id"], kind)
                entry["devices"].append(
                    {"kind": kind, "sip_username": dev["sip_username"], "sip_password": sip_password}
                )
            if did:
                await numbers.create_number(conn, org["id"], did, user["id"])
                entry["number"] = did
            creds["users"].append(entry)
        admin_password = _password()
        await users.create_platform_admin(conn, "Platform Admin", PLATFORM_ADMIN, admin_password)
        creds["platform_admin"] = {"username": PLATFORM_ADMIN, "password": admin_password}
    return creds, True
