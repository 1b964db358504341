"""Call targets other than users (answer groups, ...), plugged into the routing of calls.

The user path is the route handlers' own. When a dialled extension or a called DID is not a user,
each registered target is asked in turn; the first that claims it returns the decision to apply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pbx_control.dialplan.contract import Decision

# (organization slug, extension) -> a decision, or None when the extension is not this target's.
ExtensionTarget = Callable[[str, str], Awaitable[Decision | None]]
# (organization slug, E.164 number) -> a decision, or None when the number is not this target's.
NumberTarget = Callable[[str, str], Awaitable[Decision | None]]


@dataclass
class Targets:
    extensions: list[ExtensionTarget] = field(default_factory=list)
    numbers: list[NumberTarget] = field(default_factory=list)

    async def by_extension(self, organization: str, extension: str) -> Decision | None:
        return await _first_claim(self.extensions, organization, extension)

    async def by_number(self, organization: str, number: str) -> Decision | None:
        return await _first_claim(self.numbers, organization, number)


async def _first_claim(targets: list[ExtensionTarget], organization: str, key: str) -> Decision | None:
    for target in targets:
        decision = await target(organization, key)
        if decision is not None:
            return decision
    return None
