"""Input checks and user facts shared by activities and settings. Every check raises Invalid with
the field and the reason, before anything is written."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from pbx_control.kernel import ids
from pbx_control.kernel.db import Db
from pbx_control.kernel.errors import Invalid, NotFound
from pbx_control.policy.checks import check_destination
from pbx_control.policy.model import Use
from pbx_control.tenancy.phone_numbers import normalize

MAX_SETTING_AHEAD = timedelta(days=366)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

# ---------------------------------------------------------------------------------------------
# Input checks


def text_field(value: object, field: str, max_len: int, *, required: bool = True) -> str:
    """Free text (labels, spoken phrases, notes): any script and quotes, no control characters."""
    if not isinstance(value, str):
        raise Invalid(f"{field} must be a string")
    if required and not value.strip():
        raise Invalid(f"{field} must not be blank")
    if len(value) > max_len:
        raise Invalid(f"{field} must be at most {max_len} characters")
    if _CONTROL.search(value):
        raise Invalid(f"{field} must not contain newlines or other control characters")
    return " ".join(value.split()) if required else value.strip()


async def forward_number(
    db: Db, org_id: int, user_id: int, raw: object, field: str, use: Use = "forward"
) -> str:
    """A forward target: an extension of the organization (a user or a group, not oneself), or an
    outside number in E.164, national (0...) or international (00...) form, stored as E.164, that
    the user's call policy allows for `use` (forward, or transfer: call control's blind transfer)."""
    if not isinstance(raw, str) or not raw.strip():
        raise Invalid(f"{field} must be an extension or a phone number")
    text = raw.strip()
    if ids.EXTENSION.fullmatch(text):
        row = await db.fetchrow(
            "SELECT id FROM users WHERE organization_id = $1 AND extension = $2", org_id, text
        )
        if row is not None:
            if row["id"] == user_id:
                raise Invalid(f"{field}: a {use} to one's own extension would ring back here")
            return text
        if await _group_extension(db, org_id, text):
            return text
        raise Invalid(f"{field}: no user or group has extension {text}")
    try:
        number = normalize(text)
    except Invalid as exc:
        raise Invalid(f"{field}: {exc.message}") from None
    await check_destination(db, org_id, user_id, use, number, field)
    own = await db.fetchval(
        "SELECT EXISTS (SELECT 1 FROM numbers WHERE organization_id = $1 AND number = $2)"
        " OR EXISTS (SELECT 1 FROM organizations WHERE id = $1 AND main_number = $2)",
        org_id,
        number,
    )
    if own:
        raise Invalid(
            f"{field}: {number} is one of the organization's own numbers; forward to the extension instead"
            " (a forward to it would loop through the carrier)",
            "destination_not_allowed",
        )
    return number


async def _group_extension(db: Db, org_id: int, extension: str) -> bool:
    if await db.fetchval("SELECT to_regclass('answer_groups') IS NOT NULL") is not True:
        return False
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM answer_groups WHERE organization_id = $1 AND extension = $2)",
            org_id,
            extension,
        )
    )


def end_time(
    value: datetime | None, now: datetime, field: str, limit: timedelta = MAX_SETTING_AHEAD
) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Invalid(f"{field} must have a timezone offset, e.g. 2026-11-25T14:30:00+01:00")
    if value <= now:
        raise Invalid(f"{field} is in the past")
    if value - now > limit:
        raise Invalid(f"{field} is more than {limit.days} days ahead; leave it out for until further notice")
    return value


# ---------------------------------------------------------------------------------------------
# Facts about the user


async def user_facts(db: Db, user_id: int) -> dict[str, Any]:
    row = await db.fetchrow(
        "SELECT u.id, u.organization_id, u.extension, u.name, u.language, u.block_anonymous,"
        "       o.timezone, o.working_hours, o.main_number,"
        "       EXISTS (SELECT 1 FROM numbers n WHERE n.user_id = u.id) AS has_number"
        "  FROM users u JOIN organizations o ON o.id = u.organization_id WHERE u.id = $1",
        user_id,
    )
    if row is None:
        raise NotFound("user not found")
    out = dict(row)
    if isinstance(out["working_hours"], str):
        out["working_hours"] = json.loads(out["working_hours"])
    return out
