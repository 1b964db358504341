"""The large data set: organizations, users with one SIP device and a DID each, caller lists (VIP and
blocked), and, when their tables exist, answer groups and contacts. Written with COPY, in chunks of
their own transactions: the schema's triggers take an advisory lock per organization (extensions)
and per SIP name (devices), and 100,000 of them in one transaction would overflow PostgreSQL's
lock table (max_locks_per_transaction).

Names are deterministic (``bench000``, extension 1000 + n, device ``bench000_1000``) so every
measurement can pick callers and callees without asking the database.
"""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from bench.params import Params
from bench.seed_optional import seed_contacts, seed_default_greetings, seed_groups
from pbx_control.auth.passwords import hash_password_sync
from pbx_control.auth.tokens import digest
from pbx_control.tenancy.devices import md5_cred

PASSWORD = "bench-password-123"  # noqa: S105 (bench data)
SIP_PASSWORD = "bench-sip-password"  # noqa: S105
FIRST_EXTENSION = 1000
TRUNK_NAME = "carrier"


def slug(org: int) -> str:
    return f"bench{org:03d}"


def device(org: int, extension: int) -> str:
    return f"{slug(org)}_{extension}"


def username(org: int, extension: int) -> str:
    return f"u{extension}@{slug(org)}"


def users_per_org(p: Params) -> list[int]:
    rest = p.users - p.big_org_users
    others = p.organizations - 1
    return [p.big_org_users] + [rest // others + (1 if i < rest % others else 0) for i in range(others)]


@dataclass
class Seeded:
    sizes: list[int]  # users per organization, index = organization number
    counts: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    seconds_by_table: dict[str, float] = field(default_factory=dict)
    # API tokens of the first organization's users, by extension (API and WebSocket clients)
    tokens: dict[int, str] = field(default_factory=dict)
    user_ids: dict[tuple[int, int], int] = field(default_factory=dict)  # (org, extension) -> id
    # (group id, user id, extension) of the answer group members of the first organization
    group_members: list[tuple[int, int, int]] = field(default_factory=list)

    def random_user(self, rng: random.Random) -> tuple[int, int]:
        org = rng.randrange(len(self.sizes))
        return org, FIRST_EXTENSION + rng.randrange(self.sizes[org])


async def seed(database_url: str, p: Params, trunk_host: str, trunk_port: int) -> Seeded:
    started = time.monotonic()
    SECONDS.clear()
    out = Seeded(users_per_org(p))
    conn = await asyncpg.connect(database_url)
    try:
        await _seed(conn, p, out, trunk_host, trunk_port)
        analyzed = time.monotonic()
        await conn.execute("VACUUM (ANALYZE)")  # the greetings' UPDATE left a dead row per user
        SECONDS["VACUUM (ANALYZE)"] = round(time.monotonic() - analyzed, 1)
        out.seconds_by_table = dict(SECONDS)
    finally:
        await conn.close()
    out.seconds = round(time.monotonic() - started, 1)
    return out


LOCKING_CHUNK = 2_000  # rows per transaction where each row takes an advisory lock (users, devices)
CHUNK = 200_000  # elsewhere (fewer commits)
LOCKING = ("users", "devices")


SECONDS: dict[str, float] = {}  # seconds spent writing each table (the seed's own figures)


async def _copy(conn: asyncpg.Connection, table: str, columns: list[str], records: list[Any]) -> None:
    started = time.monotonic()
    chunk = LOCKING_CHUNK if table in LOCKING else CHUNK
    for start in range(0, len(records), chunk):
        async with conn.transaction():
            await conn.copy_records_to_table(table, columns=columns, records=records[start : start + chunk])
    SECONDS[table] = round(SECONDS.get(table, 0.0) + time.monotonic() - started, 1)


async def _seed(conn: asyncpg.Connection, p: Params, out: Seeded, trunk_host: str, trunk_port: int) -> None:
    await conn.execute(
        "INSERT INTO trunks (name, host, port, match) VALUES ($1, $2, $3, $4)",
        TRUNK_NAME,
        trunk_host,
        trunk_port,
        trunk_host,
    )
    await _copy(
        conn,
        "organizations",
        ["slug", "name", "main_number"],
        [(slug(o), f"Bench {o}", f"+46810{o:03d}000") for o in range(p.organizations)],
    )
    org_ids = {r["slug"]: r["id"] for r in await conn.fetch("SELECT id, slug FROM organizations")}
    pw_hash = hash_password_sync(PASSWORD, cost=4)  # logins are not measured: cheapest cost
    users = []
    for o, size in enumerate(out.sizes):
        for n in range(size):
            ext = FIRST_EXTENSION + n
            # The first organization's first users hold the WebSocket clients of event_fanout: an
            # operator console sees every call of the organization (a plain user only their own).
            role = "admin" if n == 0 else "operator" if o == 0 and n < p.fanout_clients else "user"
            users.append((org_ids[slug(o)], str(ext), f"User {o}-{ext}", username(o, ext), pw_hash, role))
    await _copy(
        conn,
        "users",
        ["organization_id", "extension", "name", "username", "password_hash", "role"],
        users,
    )
    rows = await conn.fetch(
        "SELECT u.id, u.organization_id, u.extension, o.slug, u.name, u.language FROM users u"
        " JOIN organizations o ON o.id = u.organization_id"
    )
    user_rows = [(r["id"], r["organization_id"], r["slug"], r["extension"]) for r in rows]
    out.user_ids = {(int(s[5:]), int(ext)): uid for uid, _oid, s, ext in user_rows}
    await _tokens(conn, out)
    await _copy(
        conn,
        "devices",
        ["user_id", "organization_id", "kind", "sip_username", "sip_md5_cred"],
        [
            (uid, oid, "desk", f"{s}_{ext}", md5_cred(f"{s}_{ext}", SIP_PASSWORD))
            for uid, oid, s, ext in user_rows
        ],
    )
    await _copy(
        conn,
        "numbers",
        ["number", "organization_id", "user_id"],
        [(f"+4682{s[5:]}{ext}", oid, uid) for uid, oid, s, ext in user_rows],
    )
    rng = random.Random(5)
    await _copy(
        conn,
        "caller_lists",
        ["user_id", "number", "kind"],
        [
            (rng.choice(user_rows)[0], f"+4670{k:07d}", "vip" if k % 2 else "blocked")
            for k in range(p.caller_list_rows)
        ],
    )
    out.counts = {
        "organizations": p.organizations,
        "users": len(user_rows),
        "devices": len(user_rows),
        "numbers": len(user_rows),
        "caller_lists": p.caller_list_rows,
    }
    rows4 = [(uid, oid, int(s[5:]), int(ext)) for uid, oid, s, ext in user_rows]
    started = time.monotonic()
    out.counts["groups"], members = await seed_groups(conn, p.groups, rows4, p.organizations)
    SECONDS["groups (all)"] = round(time.monotonic() - started, 1)
    first_org = {uid for uid, _oid, n, _e in rows4 if n == 0}
    out.group_members = [m for m in members if m[1] in first_org]
    started = time.monotonic()
    out.counts["contacts"] = await seed_contacts(conn, p.contacts, rows4)
    SECONDS["contacts (all)"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    out.counts["default_greetings"] = await seed_default_greetings(
        conn,
        [(r["id"], r["organization_id"], r["slug"], r["extension"], r["name"], r["language"]) for r in rows],
    )
    SECONDS["default greetings (all)"] = round(time.monotonic() - started, 1)


async def _tokens(conn: asyncpg.Connection, out: Seeded) -> None:
    """A valid API token for every user of the first organization (logins are not measured)."""
    for ext in range(FIRST_EXTENSION, FIRST_EXTENSION + out.sizes[0]):
        out.tokens[ext] = secrets.token_urlsafe(32)
    await _copy(
        conn,
        "api_tokens",
        ["token_sha256", "user_id", "expires_at"],
        [
            (digest(tok), out.user_ids[(0, ext)], datetime.now(UTC) + timedelta(days=1))
            for ext, tok in out.tokens.items()
        ],
    )
