"""Opaque bearer tokens. The client gets `secrets.token_urlsafe(32)`; only its sha256 is stored
(api_tokens), with an expiry. The API looks tokens up through `token_lookups`: the tokens of
concurrent requests in one query, nothing cached, so a revoked token is refused by the next request."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pbx_control.kernel.batch import BatchLookup
from pbx_control.kernel.db import Db

# Length cap on what we hash: a real token is 43 characters.
MAX_TOKEN_LENGTH = 256


@dataclass(frozen=True)
class Principal:
    """Who is asking. organization_id is None for platform admins."""

    user_id: int
    organization_id: int | None
    role: str
    username: str


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def issue_token(db: Db, user_id: int, ttl_s: int) -> tuple[str, datetime]:
    """Create a token for `user_id`; return (token, expires_at). Also drops the user's expired ones."""
    token = secrets.token_urlsafe(32)
    await db.execute("DELETE FROM api_tokens WHERE user_id = $1 AND expires_at <= now()", user_id)
    expires_at = await db.fetchval(
        "INSERT INTO api_tokens (token_sha256, user_id, expires_at)"
        " VALUES ($1, $2, now() + make_interval(secs => $3)) RETURNING expires_at",
        digest(token),
        user_id,
        float(ttl_s),
    )
    return token, expires_at


async def lookup_tokens(db: Db, tokens: Sequence[str]) -> dict[str, Principal]:
    """The principals of those of `tokens` that are valid and unexpired, in one primary-key query
    joined to users (an empty or over-long token is none)."""
    by_digest = {digest(t): t for t in tokens if t and len(t) <= MAX_TOKEN_LENGTH}
    if not by_digest:
        return {}
    rows = await db.fetch(
        "SELECT t.token_sha256, u.id, u.organization_id, u.role, u.username"
        "  FROM api_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_sha256 = ANY($1::bytea[]) AND t.expires_at > now()",
        list(by_digest),
    )
    found: dict[str, Principal] = {}
    for r in rows:
        found[by_digest[bytes(r["token_sha256"])]] = Principal(
            r["id"], r["organization_id"], r["role"], r["username"]
        )
    return found


def token_lookups(db: Db) -> BatchLookup[str, Principal]:
    """`await token_lookups(pool).get(token)`: the token's principal or None; concurrent look-ups
    share one query (lookup_tokens)."""

    async def fetch(tokens: Sequence[str]) -> dict[str, Principal]:
        return await lookup_tokens(db, tokens)

    return BatchLookup(fetch)


async def revoke_token(db: Db, token: str) -> bool:
    """Delete the token (logout); True when it existed."""
    status = await db.execute("DELETE FROM api_tokens WHERE token_sha256 = $1", digest(token))
    return status != "DELETE 0"


async def revoke_user_tokens(db: Db, user_id: int, *, keep: str | None = None) -> int:
    """Log a user out everywhere (e.g. after a password change), except the token `keep` if given;
    return how many tokens were revoked."""
    if keep is None:
        status = await db.execute("DELETE FROM api_tokens WHERE user_id = $1", user_id)
    else:
        status = await db.execute(
            "DELETE FROM api_tokens WHERE user_id = $1 AND token_sha256 <> $2", user_id, digest(keep)
        )
    return int(status.split()[-1])


async def purge_expired_tokens(db: Db) -> int:
    """Delete every expired token (for a periodic job); return how many."""
    status = await db.execute("DELETE FROM api_tokens WHERE expires_at <= now()")
    return int(status.split()[-1])
