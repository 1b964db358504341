"""The call policy as the API checks it: one function for every place a destination is set or
used (forwards, activities, custom settings, transfers, click-to-call, group overflow). A refusal
is a 400 `destination_not_allowed` saying which class and which use; nothing is changed."""

from __future__ import annotations

from pbx_control.kernel.db import Db
from pbx_control.kernel.errors import Invalid
from pbx_control.policy import repository
from pbx_control.policy.model import Use, refusal


async def check_destination(
    db: Db, org_id: int, user_id: int | None, use: Use, number: str, field: str
) -> None:
    """Raise Invalid(destination_not_allowed) when `number` may not be used for `use` by the user
    (user_id None: by the organization, e.g. a group's overflow)."""
    policy = (
        await repository.effective(db, org_id, user_id)
        if user_id is not None
        else await repository.org_policy(db, org_id)
    )
    why = refusal(policy, use, number)
    if why is not None:
        raise Invalid(f"{field}: {why}", "destination_not_allowed")
