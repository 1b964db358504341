"""Activities and custom activities: validation and SQL (pbx_control/sql/003_reachability.sql).

Every write validates first and runs in one transaction, so bad input changes nothing. Setting an
activity stores the sentence callers will hear with no audio yet (prompt NULL); a trigger notifies
the prompt worker (pbx_control.reachability.worker), which makes the audio in the background and
fills in the prompt. Calls in between skip the announcement.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import asyncpg

from pbx_control.kernel.db import Db, transaction
from pbx_control.kernel.errors import Invalid, NotFound
from pbx_control.reachability import activities as acts
from pbx_control.reachability.checks import forward_number, text_field, user_facts
from pbx_control.reachability.sentences import clean, sentence

DESTINATIONS = ("voicemail", "forward", "operator", "ring")
MAX_NOTE = 200
MAX_LABEL = 60
MAX_SPOKEN = 200
MAX_CUSTOM_PER_USER = 50

# ---------------------------------------------------------------------------------------------
# Custom activities

_CUSTOM_COLUMNS = "id, label, spoken_text, default_minutes, destination, forward_to, created_at"


async def _custom_fields(db: Db, me: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "label" in fields:
        out["label"] = text_field(fields["label"], "label", MAX_LABEL)
    if "spoken_text" in fields:
        spoken = text_field(fields["spoken_text"], "spoken_text", MAX_SPOKEN)
        if not clean(spoken):
            raise Invalid("spoken_text has nothing that can be spoken")
        out["spoken_text"] = spoken
    if "default_minutes" in fields:
        minutes = fields["default_minutes"]
        if minutes is not None and (
            isinstance(minutes, bool)
            or not isinstance(minutes, int)
            or not 1 <= minutes <= acts.MAX_CUSTOM_MINUTES
        ):
            raise Invalid(
                f"default_minutes must be 1 to {acts.MAX_CUSTOM_MINUTES}, or null for until further notice"
            )
        out["default_minutes"] = minutes
    if "destination" in fields:
        if fields["destination"] not in DESTINATIONS:
            raise Invalid(f"destination must be one of {', '.join(DESTINATIONS)}")
        out["destination"] = fields["destination"]
    if "forward_to" in fields:
        raw = fields["forward_to"]
        out["forward_to"] = (
            None
            if raw is None
            else await forward_number(db, me["organization_id"], me["id"], raw, "forward_to")
        )
    return out


def _check_destination(destination: str, forward_to: str | None) -> None:
    if destination == "forward" and not forward_to:
        raise Invalid("destination forward needs forward_to")
    if destination != "forward" and forward_to:
        raise Invalid("forward_to is only for destination forward")


async def list_custom(db: Db, user_id: int) -> list[dict[str, Any]]:
    recs = await db.fetch(
        f"SELECT {_CUSTOM_COLUMNS} FROM custom_activities WHERE user_id = $1 ORDER BY label, id",  # noqa: S608
        user_id,
    )
    return [dict(r) for r in recs]


async def get_custom(db: Db, user_id: int, activity_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(
        f"SELECT {_CUSTOM_COLUMNS} FROM custom_activities WHERE id = $1 AND user_id = $2",  # noqa: S608
        activity_id,
        user_id,
    )
    if rec is None:
        raise NotFound("custom activity not found")
    return dict(rec)


async def create_custom(db: Db, user_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    async with transaction(db) as conn:
        me = await user_facts(conn, user_id)
        if "label" not in fields or "spoken_text" not in fields:
            raise Invalid("label and spoken_text are required")
        values: dict[str, Any] = {"destination": "voicemail", "forward_to": None, "default_minutes": None}
        values.update(await _custom_fields(conn, me, fields))
        _check_destination(values["destination"], values["forward_to"])
        count = await conn.fetchval("SELECT count(*) FROM custom_activities WHERE user_id = $1", user_id)
        if count >= MAX_CUSTOM_PER_USER:
            raise Invalid(f"at most {MAX_CUSTOM_PER_USER} custom activities per user")
        rec = await conn.fetchrow(
            "INSERT INTO custom_activities"  # noqa: S608
            " (user_id, label, spoken_text, default_minutes, destination, forward_to)"
            f" VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_CUSTOM_COLUMNS}",
            user_id,
            values["label"],
            values["spoken_text"],
            values["default_minutes"],
            values["destination"],
            values["forward_to"],
        )
    assert rec is not None  # RETURNING gives the row back
    return dict(rec)


async def update_custom(
    db: Db, user_id: int, activity_id: int, fields: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Change a custom activity; if it is the user's current activity, callers hear the new
    sentence (made again in the background) and go to the new destination."""
    if not fields:
        raise Invalid("nothing to update")
    async with transaction(db) as conn:
        me = await user_facts(conn, user_id)
        # Locked before it is read: a concurrent change of other fields is kept.
        await conn.execute(
            "SELECT 1 FROM custom_activities WHERE id = $1 AND user_id = $2 FOR UPDATE", activity_id, user_id
        )
        current = await get_custom(conn, user_id, activity_id)
        values = await _custom_fields(conn, me, fields)
        if values.get("destination", current["destination"]) != "forward" and "forward_to" not in values:
            values["forward_to"] = None
        merged = {**current, **values}
        _check_destination(merged["destination"], merged["forward_to"])
        rec = await conn.fetchrow(
            "UPDATE custom_activities SET label = $3, spoken_text = $4, default_minutes = $5,"  # noqa: S608
            f" destination = $6, forward_to = $7 WHERE id = $1 AND user_id = $2 RETURNING {_CUSTOM_COLUMNS}",
            activity_id,
            user_id,
            merged["label"],
            merged["spoken_text"],
            merged["default_minutes"],
            merged["destination"],
            merged["forward_to"],
        )
        assert rec is not None  # the row exists: get_custom found it in this transaction
        active = await conn.fetchrow(
            "SELECT kind, until FROM user_activities WHERE user_id = $1 AND custom_activity_id = $2",
            user_id,
            activity_id,
        )
        if active is not None:
            dest, forward_to = merged["destination"], merged["forward_to"]
            await _store_activity(conn, me, "custom", rec, active["until"], dest, forward_to, None, now)
    return dict(rec)


async def delete_custom(db: Db, user_id: int, activity_id: int) -> None:
    """Delete a custom activity; a user whose current activity it is becomes Available (note kept)."""
    async with transaction(db) as conn:
        await get_custom(conn, user_id, activity_id)
        await conn.execute(
            "UPDATE user_activities SET kind = 'available', custom_activity_id = NULL, until = NULL,"
            " destination = 'voicemail', forward_to = NULL, prompt = NULL, prompt_text = NULL,"
            " prompt_name = NULL, prompt_language = NULL, set_at = now()"
            " WHERE user_id = $1 AND custom_activity_id = $2",
            user_id,
            activity_id,
        )
        await conn.execute(
            "DELETE FROM custom_activities WHERE id = $1 AND user_id = $2", activity_id, user_id
        )


# ---------------------------------------------------------------------------------------------
# The current activity


async def get_activity(db: Db, user_id: int, now: datetime) -> dict[str, Any]:
    """The user's activity as callers meet it now: an activity past its end time is Available."""
    me = await user_facts(db, user_id)
    rec = await db.fetchrow(
        "SELECT a.kind, a.custom_activity_id, a.until, a.destination, a.forward_to, a.note,"
        "       a.prompt_text, a.prompt, a.prompt_name, a.prompt_language, a.set_at, c.label"
        "  FROM user_activities a LEFT JOIN custom_activities c ON c.id = a.custom_activity_id"
        " WHERE a.user_id = $1",
        user_id,
    )
    return _activity_out(me, dict(rec) if rec else None, now)


def _activity_out(me: dict[str, Any], rec: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    note = rec["note"] if rec else ""
    if rec is None or not acts.is_active(rec["kind"], rec["until"], now):
        return {
            "activity": "available",
            "label": _label("available", None, me["language"]),
            "custom_activity_id": None,
            "until": None,
            "until_further_notice": False,
            "destination": None,
            "forward_to": None,
            "note": note,
            "announcement": None,
            "announcement_ready": False,
            "set_at": rec["set_at"] if rec else None,
        }
    ready = (
        bool(rec["prompt"]) and rec["prompt_name"] == me["name"] and rec["prompt_language"] == me["language"]
    )
    return {
        "activity": rec["kind"],
        "label": _label(rec["kind"], rec.get("label"), me["language"]),
        "custom_activity_id": rec["custom_activity_id"],
        "until": rec["until"],
        "until_further_notice": rec["until"] is None,
        "destination": rec["destination"],
        "forward_to": rec["forward_to"],
        "note": note,
        "announcement": rec["prompt_text"],
        "announcement_ready": ready,
        "set_at": rec["set_at"],
    }


def _label(kind: str, custom_label: str | None, language: str) -> str:
    if kind == "custom":
        return custom_label or ""
    b = acts.BUILTINS[kind]
    return b.label_sv if language == "sv" else b.label_en


async def set_activity(
    db: Db,
    user_id: int,
    now: datetime,
    *,
    activity: str,
    custom_activity_id: int | None = None,
    duration_minutes: int | None = None,
    until: datetime | None = None,
    until_further_notice: bool = False,
    note: str | None = None,
) -> dict[str, Any]:
    """Set the user's activity (and note). The end time comes from the duration, `until`, the
    activity's default, or for Gone for the day the organization's next working day."""
    async with transaction(db) as conn:
        me = await user_facts(conn, user_id)
        if activity not in acts.KINDS:
            raise Invalid(f"unknown activity {activity!r}; use one of {', '.join(acts.KINDS)}")
        custom = None
        if activity == "custom":
            if custom_activity_id is None:
                raise Invalid("activity custom needs custom_activity_id")
            custom = await conn.fetchrow(
                "SELECT id, label, spoken_text, default_minutes, destination, forward_to"
                "  FROM custom_activities WHERE id = $1 AND user_id = $2",
                custom_activity_id,
                user_id,
            )
            if custom is None:
                raise Invalid(f"unknown custom activity {custom_activity_id}")
        elif custom_activity_id is not None:
            raise Invalid("custom_activity_id is only for activity custom")
        end = acts.resolve_until(
            activity,
            now,
            duration_minutes=duration_minutes,
            until=until,
            until_further_notice=until_further_notice,
            custom_default_minutes=custom["default_minutes"] if custom else None,
            timezone=me["timezone"],
            working_hours=me["working_hours"],
        )
        new_note = None if note is None else text_field(note, "note", MAX_NOTE, required=False)
        if activity == "available":
            await conn.execute(
                "INSERT INTO user_activities (user_id, kind, note) VALUES ($1, 'available', coalesce($2, ''))"
                " ON CONFLICT (user_id) DO UPDATE SET kind = 'available', custom_activity_id = NULL,"
                "   until = NULL, destination = 'voicemail', forward_to = NULL, prompt = NULL,"
                "   prompt_text = NULL, prompt_name = NULL, prompt_language = NULL, set_at = now(),"
                "   note = coalesce($2, user_activities.note)",
                user_id,
                new_note,
            )
        else:
            destination = custom["destination"] if custom else "voicemail"
            forward_to = custom["forward_to"] if custom else None
            await _store_activity(conn, me, activity, custom, end, destination, forward_to, new_note, now)
        return await get_activity(conn, user_id, now)


async def _store_activity(
    conn: Db,
    me: dict[str, Any],
    kind: str,
    custom: asyncpg.Record | Mapping[str, Any] | None,  # the custom activity, for kind "custom"
    until: datetime | None,
    destination: str,
    forward_to: str | None,
    note: str | None,
    now: datetime,
) -> None:
    text = sentence(
        me["name"],
        kind,
        until,
        now,
        language=me["language"],
        timezone=me["timezone"],
        custom_text=custom["spoken_text"] if custom else None,
    )
    await conn.execute(
        "INSERT INTO user_activities (user_id, kind, custom_activity_id, until, destination, forward_to,"
        "                             note, prompt_text)"
        " VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, ''), $8)"
        " ON CONFLICT (user_id) DO UPDATE SET kind = $2, custom_activity_id = $3, until = $4,"
        "   destination = $5, forward_to = $6, note = coalesce($7, user_activities.note),"
        "   prompt_text = $8, prompt = NULL, prompt_name = NULL, prompt_language = NULL, set_at = now()",
        me["id"],
        kind,
        custom["id"] if custom else None,
        until,
        destination,
        forward_to,
        note,
        text,
    )
