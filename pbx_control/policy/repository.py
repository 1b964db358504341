"""The call policy in PostgreSQL (sql/015_call_policy_queue_generations.sql): read with a call's
facts, changed by admins.

On the call path the policy is not a query of its own: POLICY_JOIN and POLICY_COLUMNS join the
organization's row (primary key) and the user's narrowing (primary key) into the query that already
reads the caller or callee (routing/repository.py, groups/repository.py), so a change applies to the
next call in every process, with nothing to invalidate.
"""

from __future__ import annotations

from typing import Any

from pbx_control.kernel.db import Db, transaction
from pbx_control.kernel.errors import NotFound
from pbx_control.policy.model import USER_USES, CallPolicy, UserNarrowing, from_row

# Joined beside organization `o` and user `u` of a query (u may be a LEFT JOIN: no narrowing).
POLICY_JOIN = """
  LEFT JOIN call_policies p ON p.organization_id = o.id
  LEFT JOIN user_call_policies up ON up.user_id = u.id"""
POLICY_COLUMNS = """
       p.dial AS p_dial, p.forward AS p_forward, p.transfer AS p_transfer, p.overflow AS p_overflow,
       p.max_outside_calls AS p_max_outside_calls, p.max_call_seconds AS p_max_call_seconds,
       up.dial AS up_dial, up.forward AS up_forward, up.transfer AS up_transfer"""
# The organization's row only (no user): answer groups.
ORG_POLICY_JOIN = "\n  LEFT JOIN call_policies p ON p.organization_id = o.id"
ORG_POLICY_COLUMNS = """
       p.dial AS p_dial, p.forward AS p_forward, p.transfer AS p_transfer, p.overflow AS p_overflow,
       p.max_outside_calls AS p_max_outside_calls, p.max_call_seconds AS p_max_call_seconds"""

_EFFECTIVE = f"""
SELECT u.id, {POLICY_COLUMNS}
  FROM users u JOIN organizations o ON o.id = u.organization_id {POLICY_JOIN}
 WHERE u.id = $2 AND u.organization_id = $1
"""  # noqa: S608 (fixed fragments)
_ORG = f"SELECT o.id, {ORG_POLICY_COLUMNS} FROM organizations o {ORG_POLICY_JOIN} WHERE o.id = $1"  # noqa: S608
_NARROWING = """
SELECT u.id, up.dial, up.forward, up.transfer
  FROM users u LEFT JOIN user_call_policies up ON up.user_id = u.id
 WHERE u.id = $2 AND u.organization_id = $1
"""
# One fixed statement per column (no SQL is built from input).
_ORG_UPDATES = {
    key: f"UPDATE call_policies SET {key} = $2, updated_at = now() WHERE organization_id = $1"  # noqa: S608
    for key in ("dial", "forward", "transfer", "overflow", "max_outside_calls", "max_call_seconds")
}
_USER_UPDATES = {
    key: f"UPDATE user_call_policies SET {key} = $2, updated_at = now() WHERE user_id = $1"  # noqa: S608
    for key in USER_USES
}


async def org_policy(db: Db, org_id: int) -> CallPolicy:
    row = await db.fetchrow(_ORG, org_id)
    if row is None:
        raise NotFound("organization not found")
    return from_row(row)


async def effective(db: Db, org_id: int, user_id: int) -> CallPolicy:
    """The user's policy: the organization's, narrowed by the user's lists. Another organization's
    user (or none) is a NotFound."""
    row = await db.fetchrow(_EFFECTIVE, org_id, user_id)
    if row is None:
        raise NotFound("user not found")
    return from_row(row)


async def narrowing(db: Db, org_id: int, user_id: int) -> UserNarrowing:
    row = await db.fetchrow(_NARROWING, org_id, user_id)
    if row is None:
        raise NotFound("user not found")
    return UserNarrowing(*(frozenset(row[u]) if row[u] is not None else None for u in USER_USES))


def _stored(key: str, value: Any) -> Any:
    """A list of classes as a sorted text[] (stable output); numbers and None as they are."""
    if isinstance(value, list | set | frozenset | tuple):
        return sorted(set(value))
    return value


async def save_org(db: Db, org_id: int, changes: dict[str, Any]) -> CallPolicy:
    """Change the fields given (validated by the schema); the others keep their values."""
    async with transaction(db) as conn:
        await conn.execute(
            "INSERT INTO call_policies (organization_id) VALUES ($1) ON CONFLICT DO NOTHING", org_id
        )
        for key, sql in _ORG_UPDATES.items():
            if key in changes:
                await conn.execute(sql, org_id, _stored(key, changes[key]))
        return await org_policy(conn, org_id)


async def save_user(db: Db, org_id: int, user_id: int, changes: dict[str, Any]) -> UserNarrowing:
    """Narrow the user's dial, forward, transfer (a list), or give one back to the organization (None)."""
    async with transaction(db) as conn:
        if not await conn.fetchval(
            "SELECT 1 FROM users WHERE id = $1 AND organization_id = $2 FOR UPDATE", user_id, org_id
        ):
            raise NotFound("user not found")
        await conn.execute(
            "INSERT INTO user_call_policies (user_id) VALUES ($1) ON CONFLICT DO NOTHING", user_id
        )
        for key, sql in _USER_UPDATES.items():
            if key in changes:
                await conn.execute(sql, user_id, _stored(key, changes[key]))
        return await narrowing(conn, org_id, user_id)
