"""Logging in and out of answer groups, pausing, and the night switch: who may, and the change.

Used by the API (a user or a colleague) and by the feature codes (`*45<group>`, `*46<group>` from a
device). Every change is one transaction on PostgreSQL; app_queue reads the result at the next
call (realtime views), so nothing has to be pushed to Asterisk.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from pbx_control.kernel.db import Conn, Db, transaction, translate_errors
from pbx_control.kernel.errors import DomainError, Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class Actor:
    user_id: int
    organization_id: int
    role: str  # user | operator | admin


_GROUP = (
    "SELECT id, strategy, night_manual FROM answer_groups WHERE id = $2 AND organization_id = $1 FOR UPDATE"
)
_MEMBER = (
    "SELECT logged_in, paused, group_admin FROM answer_group_members WHERE group_id = $1 AND user_id = $2"
)


async def _group(conn: Conn, org_id: int, group_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(_GROUP, org_id, group_id)
    if row is None:
        raise NotFound("group not found")
    return row


async def may_manage(conn: Conn, actor: Actor, group_id: int) -> bool:
    """Operators and admins manage every group of their organization; a group admin theirs."""
    if actor.role in ("operator", "admin"):
        return True
    row = await conn.fetchrow(_MEMBER, group_id, actor.user_id)
    return bool(row and row["group_admin"])


# What operators and group admins may change with PATCH /groups/{id} (the app's gear); the rest
# (name, extension, number, members, schedule, holidays, timezone) stays the admins'.
MANAGER_FIELDS = frozenset({"strategy", "ring_time", "max_wait", "overflow", "night_destination"})


async def require_manager(db: Db, actor: Actor, group_id: int, fields: set[str]) -> None:
    """A group of another organization: 404; not its manager, or a field only admins change: 403."""
    async with transaction(db) as conn:
        row = await conn.fetchrow(
            "SELECT 1 FROM answer_groups WHERE id = $2 AND organization_id = $1",
            actor.organization_id,
            group_id,
        )
        if row is None:
            raise NotFound("group not found")
        if not await may_manage(conn, actor, group_id):
            raise Forbidden("only admins, operators and the group's group admins change this group")
    others = sorted(fields - MANAGER_FIELDS)
    if others:
        raise Forbidden(f"only admins change {', '.join(others)}")


# set_login in one statement: the group's row lock (FOR UPDATE, as in the other changes) is held
# for this statement only, not across the round trips of a transaction driven from Python, where
# every other login to the same group waited behind it (and held a pool connection meanwhile).
# An in-order queue fixes its ring order when app_queue builds it: a membership change makes a
# new generation (new queue name) for the next call; callers already waiting keep theirs, which
# stays readable while they may wait (sql/015: answer_group_generations): `bumped`.
# Data-modifying CTEs run whether or not the final SELECT reads them; the UPDATE re-checks
# `logged_in` on the newest row version, so `changed` (and the generation bump) is exact.
_SET_LOGIN = """
WITH g AS (
    SELECT id FROM answer_groups WHERE id = $2 AND organization_id = $1 FOR UPDATE
), allowed AS (
    SELECT ($3::bigint = $4::bigint OR $5::boolean OR EXISTS (
        SELECT 1 FROM answer_group_members WHERE group_id = $2 AND user_id = $4 AND group_admin
    )) AS ok
), target AS (
    SELECT logged_in FROM answer_group_members WHERE group_id = $2 AND user_id = $3
), changed AS (
    UPDATE answer_group_members
       SET logged_in = $6::boolean, paused = false, pause_reason = '', changed_at = now()
     WHERE group_id = $2 AND user_id = $3 AND logged_in IS DISTINCT FROM $6
       AND EXISTS (SELECT 1 FROM g) AND (SELECT ok FROM allowed)
    RETURNING 1
), bumped AS (
    UPDATE answer_groups SET generation = generation + 1
     WHERE id = $2 AND strategy = 'linear' AND EXISTS (SELECT 1 FROM changed)
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM g) AS group_found,
       (SELECT ok FROM allowed) AS allowed,
       EXISTS (SELECT 1 FROM target) AS member,
       EXISTS (SELECT 1 FROM changed) AS changed
"""


async def set_login(db: Db, actor: Actor, group_id: int, user_id: int, logged_in: bool) -> bool:
    """Log user_id in or out of the group; return whether anything changed. One statement
    (_SET_LOGIN): the group must be the actor's organization's (else NotFound); a colleague only by
    an operator, an admin or the group's group admin (else Forbidden); the user must be a member."""
    manages_all = actor.role in ("operator", "admin")
    with translate_errors():
        row = await db.fetchrow(
            _SET_LOGIN, actor.organization_id, group_id, user_id, actor.user_id, manages_all, logged_in
        )
    if row is None or not row["group_found"]:
        raise NotFound("group not found")
    if not row["allowed"]:
        raise Forbidden("you may not log colleagues in or out of this group")
    if not row["member"]:
        if user_id == actor.user_id:
            raise Forbidden("you may not answer this group")
        raise Invalid("user_id: this user may not answer this group")
    return bool(row["changed"])


async def set_pause(db: Db, actor: Actor, group_id: int, user_id: int, paused: bool, reason: str) -> None:
    """Pause (with a reason) or unpause a logged-in member; a paused member stays logged in."""
    async with transaction(db) as conn:
        await _group(conn, actor.organization_id, group_id)
        if user_id != actor.user_id and not await may_manage(conn, actor, group_id):
            raise Forbidden("you may not pause colleagues in this group")
        member = await conn.fetchrow(_MEMBER, group_id, user_id)
        if member is None:
            raise (Forbidden if user_id == actor.user_id else Invalid)("this user may not answer this group")
        if not member["logged_in"]:
            raise Invalid("paused: log in first (a pause is not a logout)")
        await conn.execute(
            "UPDATE answer_group_members SET paused = $3, pause_reason = $4, changed_at = now()"
            " WHERE group_id = $1 AND user_id = $2",
            group_id,
            user_id,
            paused,
            reason if paused else "",
        )


async def set_night(db: Db, actor: Actor, group_id: int, on: bool) -> None:
    async with transaction(db) as conn:
        await _group(conn, actor.organization_id, group_id)
        if not await may_manage(conn, actor, group_id):
            raise Forbidden("you may not switch this group's night mode")
        await conn.execute("UPDATE answer_groups SET night_manual = $2 WHERE id = $1", group_id, on)


@dataclass(frozen=True)
class FeatureResult:
    group_id: int
    on: bool


_BY_DEVICE = """
SELECT u.id AS user_id, u.organization_id, u.role, g.id AS group_id
  FROM devices d
  JOIN organizations o ON o.id = d.organization_id AND o.slug = $1
  JOIN users u ON u.id = d.user_id
  JOIN answer_groups g ON g.organization_id = o.id AND g.extension = $3
 WHERE d.sip_username = $2
"""


async def feature_code(
    db: Db, organization: str, endpoint: str, feature: str, extension: str
) -> FeatureResult | None:
    """`*45<group>` toggles the device owner's login, `*46<group>` the night switch. None: no such
    group, or the owner may not (the caller hears a refusal, nothing changes)."""
    row = await db.fetchrow(_BY_DEVICE, organization, endpoint, extension)
    if row is None:
        return None
    actor = Actor(row["user_id"], row["organization_id"], row["role"])
    group_id = row["group_id"]
    try:
        if feature == "login":
            member = await db.fetchrow(_MEMBER, group_id, actor.user_id)
            if member is None:
                return None
            on = not member["logged_in"]
            await set_login(db, actor, group_id, actor.user_id, on)
            return FeatureResult(group_id, on)
        if feature == "night":
            on = not await db.fetchval("SELECT night_manual FROM answer_groups WHERE id = $1", group_id)
            await set_night(db, actor, group_id, on)
            return FeatureResult(group_id, on)
    except DomainError:
        return None
    return None
