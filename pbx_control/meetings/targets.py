"""The organization's outside dial-in number as a call target: a call from the carrier to it goes
to the meeting dial-in (extensions_meetings.conf), in the number's organization."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from pbx_control.dialplan import contract as c
from pbx_control.dialplan.contract import Decision
from pbx_control.routing.targets import NumberTarget

_DIAL_IN = """SELECT 1 FROM meeting_dial_in d
              JOIN numbers n ON n.id = d.number_id JOIN organizations o ON o.id = d.organization_id
              WHERE o.slug = $1 AND n.number = $2"""


@dataclass(frozen=True)
class ToDialIn:
    organization: str
    action: str = "meeting"
    reason: str = "meeting dial-in number"

    def variables(self) -> dict[str, str]:
        return c.variables({c.ROUTE: self.action, c.ORG: self.organization})


def dial_in_target(pool: asyncpg.Pool) -> NumberTarget:
    async def target(organization: str, number: str) -> Decision | None:
        if await pool.fetchval(_DIAL_IN, organization, number) is None:
            return None
        return ToDialIn(organization)

    return target
