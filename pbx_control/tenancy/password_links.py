"""Set-password links: the welcome mail's (an admin made the account) and the reset mail's (the
user asked for one).

A link carries `secrets.token_urlsafe(32)` in its fragment (`<app>/#set-password=<token>`: a
fragment never reaches a server's log); only its sha256 is stored (sql/021_password_links.sql).
It sets the password once, before it expires on the service's clock. Setting the password deletes
every other link of the user and revokes the user's API tokens, in one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from pbx_control.auth.passwords import hash_password
from pbx_control.auth.tokens import revoke_user_tokens
from pbx_control.kernel.db import Conn, Db, transaction
from pbx_control.kernel.errors import Invalid
from pbx_control.mail.outbox import enqueue, valid_address
from pbx_control.tenancy import account_mail
from pbx_control.tenancy import validation as v

TTL = {"welcome": timedelta(days=7), "reset": timedelta(hours=1)}
MAX_TOKEN_LENGTH = 256  # a real token is 43 characters
MAX_RESET_MAILS = 5  # users one reset request may reach (an address several accounts share)


class LinkRefused(Invalid):
    """The link cannot set a password: `code` is link_invalid (never issued), link_used or
    link_expired."""


@dataclass(frozen=True)
class Links:
    """Where the links point: the web app's public address (Settings.app_url, PBX_PUBLIC_URL)."""

    app_url: str

    def set_password(self, token: str) -> str:
        return f"{self.app_url}/#set-password={token}"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue(conn: Conn, user_id: int, purpose: str, now: datetime) -> str:
    """A new link for the user (their expired ones are dropped); returns the token."""
    token = secrets.token_urlsafe(32)
    await conn.execute("DELETE FROM password_links WHERE user_id = $1 AND expires_at <= $2", user_id, now)
    await conn.execute(
        "INSERT INTO password_links (token_sha256, user_id, purpose, created_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5)",
        _digest(token),
        user_id,
        purpose,
        now,
        now + TTL[purpose],
    )
    return token


async def send_welcome(conn: Conn, user_id: int, links: Links, now: datetime) -> bool:
    """Queue the welcome mail of a user of an organization who has an address (in the caller's
    transaction: it leaves only if that commits); False when the user has no address."""
    rec = await conn.fetchrow(
        "SELECT u.id, u.name, u.username, u.email, u.language, u.organization_id, o.name AS org_name"
        "  FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1",
        user_id,
    )
    if rec is None or rec["email"] is None:
        return False
    token = await issue(conn, rec["id"], "welcome", now)
    mail = account_mail.welcome(
        rec["language"],
        name=rec["name"],
        organization=rec["org_name"],
        username=rec["username"],
        link=links.set_password(token),
        app_url=links.app_url + "/",
    )
    await enqueue(
        conn, organization_id=rec["organization_id"], to=rec["email"], subject=mail.subject, text=mail.text
    )
    return True


async def request_reset(db: Db, login: str, links: Links, now: datetime) -> int:
    """Queue a reset mail for the user(s) whose username or mail address is `login`; returns how
    many (the API never tells). Users without an address, and platform admins, get none."""
    key = login.strip().lower()
    if not 0 < len(key) <= 254:
        return 0
    async with transaction(db) as conn:
        recs = await conn.fetch(
            "SELECT id, name, username, email, language, organization_id FROM users"
            " WHERE (username = $1 OR lower(email) = $1) AND email IS NOT NULL"
            "   AND organization_id IS NOT NULL ORDER BY id LIMIT $2",
            key,
            MAX_RESET_MAILS,
        )
        for rec in recs:
            if not valid_address(rec["email"]):
                continue  # stored before addresses were checked as the outbox does: no mail, no error
            token = await issue(conn, rec["id"], "reset", now)
            mail = account_mail.reset(
                rec["language"], name=rec["name"], username=rec["username"], link=links.set_password(token)
            )
            await enqueue(
                conn,
                organization_id=rec["organization_id"],
                to=rec["email"],
                subject=mail.subject,
                text=mail.text,
            )
    return sum(1 for r in recs if valid_address(r["email"]))


_LINK = (
    "SELECT l.user_id, l.expires_at, l.used_at, u.username FROM password_links l"
    "  JOIN users u ON u.id = l.user_id WHERE l.token_sha256 = $1"
)


def _usable(link: asyncpg.Record | None, now: datetime) -> asyncpg.Record:
    if link is None:
        raise LinkRefused("this link is not valid (or a newer one replaced it)", "link_invalid")
    if link["used_at"] is not None:
        raise LinkRefused("this link has already been used; ask for a new one", "link_used")
    if link["expires_at"] <= now:
        raise LinkRefused("this link has expired; ask for a new one", "link_expired")
    return link


async def set_password(db: Db, token: str, password: str, now: datetime) -> dict[str, Any]:
    """Set the password of the link's user; returns {"user_id", "username"}. A password that
    breaks the rules is Invalid and leaves the link usable; an unknown, used or expired link is
    LinkRefused."""
    password = v.user_password(password)
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise LinkRefused("this link is not valid", "link_invalid")
    _usable(await db.fetchrow(_LINK, _digest(token)), now)  # no bcrypt for a link that cannot work
    new_hash = await hash_password(password)
    async with transaction(db) as conn:
        link = _usable(await conn.fetchrow(_LINK + " FOR UPDATE OF l", _digest(token)), now)
        user_id = link["user_id"]
        await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, new_hash)
        await conn.execute(
            "UPDATE password_links SET used_at = $2 WHERE token_sha256 = $1", _digest(token), now
        )
        await conn.execute(
            "DELETE FROM password_links WHERE user_id = $1 AND token_sha256 <> $2", user_id, _digest(token)
        )
        await revoke_user_tokens(conn, user_id)
    return {"user_id": user_id, "username": link["username"]}


async def revoke_links(conn: Conn, user_id: int) -> None:
    """Every link of the user stops working (their password was set another way)."""
    await conn.execute("DELETE FROM password_links WHERE user_id = $1 AND used_at IS NULL", user_id)
