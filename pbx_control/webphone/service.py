"""A user's own browser softphone: their device of kind `web`, made on first use.

The page authenticates with HA1 = md5(username:realm:password), which is exactly what the
database keeps (devices.sip_md5_cred), so the credentials can be handed out again and again
without storing a password. Only the owner is ever given them (the routes are /users/me/...).
"""

from __future__ import annotations

from typing import Any

from pbx_control.kernel.db import Db
from pbx_control.kernel.errors import NotFound
from pbx_control.tenancy import devices

KIND = "web"
LABEL = "Browser"
# Dial it from the page or any phone: Asterisk answers and sends the caller's audio back.
ECHO_TEST = "*43"

_FIND = (
    "SELECT id, user_id, kind, label, sip_username, sip_md5_cred, created_at FROM devices"
    " WHERE organization_id = $1 AND user_id = $2 AND kind = 'web' ORDER BY id LIMIT 1"
)


async def find(db: Db, org_id: int, user_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(_FIND, org_id, user_id)
    if rec is None:
        raise NotFound("no web device yet: POST /users/me/webphone makes it")
    return dict(rec)


async def ensure(db: Db, org_id: int, user_id: int) -> tuple[dict[str, Any], bool]:
    """The user's web device, made if missing; (device, created)."""
    try:
        return await find(db, org_id, user_id), False
    except NotFound:
        await devices.create_device(db, org_id, user_id, KIND, LABEL)
        return await find(db, org_id, user_id), True
