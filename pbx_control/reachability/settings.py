"""Custom settings ("anpassade inställningar"): closed phone, forward all / on busy / on no answer,
temporary outgoing caller id, blocking anonymous callers. An end time of NULL is until further
notice; a setting past its end time is off (decided when read, nothing runs when it ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pbx_control.kernel.db import Db, transaction
from pbx_control.kernel.errors import Invalid
from pbx_control.reachability.checks import end_time, forward_number, user_facts

CALLERID_MODES = ("main", "own", "hidden")
SETTING_FIELDS = (
    "closed",
    "closed_until",
    "forward_all",
    "forward_all_until",
    "forward_busy",
    "forward_no_answer",
    "forward_no_answer_seconds",
    "outgoing_callerid",
    "outgoing_callerid_until",
)
_DEFAULT_SETTINGS: dict[str, Any] = {
    "closed": False,
    "closed_until": None,
    "forward_all": None,
    "forward_all_until": None,
    "forward_busy": None,
    "forward_no_answer": None,
    "forward_no_answer_seconds": 20,
    "outgoing_callerid": None,
    "outgoing_callerid_until": None,
}


async def get_settings(db: Db, user_id: int, now: datetime) -> dict[str, Any]:
    """The settings as calls meet them now: a setting past its end time is off."""
    me = await user_facts(db, user_id)
    rec = await db.fetchrow(
        f"SELECT {', '.join(SETTING_FIELDS)} FROM user_settings WHERE user_id = $1",  # noqa: S608
        user_id,
    )
    s = dict(rec) if rec else dict(_DEFAULT_SETTINGS)
    if s["closed"] and _ended(s["closed_until"], now):
        s["closed"], s["closed_until"] = False, None
    if s["forward_all"] and _ended(s["forward_all_until"], now):
        s["forward_all"], s["forward_all_until"] = None, None
    if s["outgoing_callerid"] and _ended(s["outgoing_callerid_until"], now):
        s["outgoing_callerid"], s["outgoing_callerid_until"] = None, None
    return {**s, "block_anonymous": me["block_anonymous"]}


def _ended(until: datetime | None, now: datetime) -> bool:
    return until is not None and until <= now


async def put_settings(db: Db, user_id: int, now: datetime, fields: dict[str, Any]) -> dict[str, Any]:
    """Change the fields given (null switches a setting off); the others stay as they are.
    An end time belongs to its setting: switching the setting off clears it."""
    if not fields:
        raise Invalid("nothing to update")
    async with transaction(db) as conn:
        me = await user_facts(conn, user_id)
        # The row locked (made first if need be) before it is read: a concurrent change of other
        # fields is waited for and kept, not overwritten with what was read before it.
        await conn.execute(
            "INSERT INTO user_settings (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING", user_id
        )
        await conn.execute("SELECT 1 FROM user_settings WHERE user_id = $1 FOR UPDATE", user_id)
        s = await get_settings(conn, user_id, now)
        s.pop("block_anonymous")
        for name in ("forward_all", "forward_busy", "forward_no_answer"):
            if name in fields:
                raw = fields[name]
                s[name] = (
                    None
                    if raw is None
                    else await forward_number(conn, me["organization_id"], user_id, raw, name)
                )
        if "closed" in fields:
            if not isinstance(fields["closed"], bool):
                raise Invalid("closed must be true or false")
            s["closed"] = fields["closed"]
        if "forward_no_answer_seconds" in fields:
            secs = fields["forward_no_answer_seconds"]
            if isinstance(secs, bool) or not isinstance(secs, int) or not 5 <= secs <= 120:
                raise Invalid("forward_no_answer_seconds must be 5 to 120")
            s["forward_no_answer_seconds"] = secs
        if "outgoing_callerid" in fields:
            mode = fields["outgoing_callerid"]
            if mode is not None and mode not in CALLERID_MODES:
                raise Invalid(f"outgoing_callerid must be one of {', '.join(CALLERID_MODES)}, or null")
            if mode == "own" and not me["has_number"]:
                raise Invalid("outgoing_callerid own: you have no number of your own")
            if mode == "main" and not me["main_number"]:
                raise Invalid("outgoing_callerid main: the organization has no main number")
            s["outgoing_callerid"] = mode
        for setting, until_field in (
            ("closed", "closed_until"),
            ("forward_all", "forward_all_until"),
            ("outgoing_callerid", "outgoing_callerid_until"),
        ):
            if until_field in fields:
                s[until_field] = end_time(fields[until_field], now, until_field)
                if s[until_field] is not None and not s[setting]:
                    raise Invalid(f"{until_field} needs {setting}")
            elif setting in fields and fields[setting] in (None, False):
                s[until_field] = None
            elif setting in fields and until_field not in fields:
                s[until_field] = None  # a setting switched on anew lasts until further notice
        if "block_anonymous" in fields:
            if not isinstance(fields["block_anonymous"], bool):
                raise Invalid("block_anonymous must be true or false")
            await conn.execute(
                "UPDATE users SET block_anonymous = $2 WHERE id = $1", user_id, fields["block_anonymous"]
            )
        if any(f in fields for f in SETTING_FIELDS):
            cols = ", ".join(SETTING_FIELDS)
            params = ", ".join(f"${i}" for i in range(2, len(SETTING_FIELDS) + 2))
            updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in SETTING_FIELDS)
            await conn.execute(
                f"INSERT INTO user_settings (user_id, {cols}) VALUES ($1, {params})"  # noqa: S608
                f" ON CONFLICT (user_id) DO UPDATE SET {updates}",
                user_id,
                *(s[c] for c in SETTING_FIELDS),
            )
        return await get_settings(conn, user_id, now)
