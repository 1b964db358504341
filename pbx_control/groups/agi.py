"""Answer groups on the FastAGI path: call targets for the route handlers, `group` (overflow from
one group to another) and `group_feature` (the *45/*46 feature codes)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.dialplan import contract as c
from pbx_control.dialplan.apply import apply_decision, apply_variables
from pbx_control.groups.decision import GroupRoute, decide_group
from pbx_control.groups.membership import feature_code
from pbx_control.groups.repository import GroupRepository
from pbx_control.kernel import ids
from pbx_control.kernel.clock import Clock, system_clock

log = structlog.get_logger("pbx_control.groups")
Handler = Callable[[AgiSession], Awaitable[None]]


class GroupTargets:
    """What the route/inbound handlers ask when an extension or a number is not a user."""

    def __init__(self, pool: asyncpg.Pool, clock: Clock = system_clock) -> None:
        """clock: "now" for night mode by schedule and holidays."""
        self.repo = GroupRepository(pool)
        self.pool = pool
        self.clock = clock

    async def by_extension(self, organization: str, extension: str, hops: int = 0) -> GroupRoute | None:
        facts = await self.repo.by_extension(organization, extension)
        return decide_group(facts, self.clock(), hops) if facts else None

    async def by_number(self, organization: str, number: str) -> GroupRoute | None:
        facts = await self.repo.by_number(organization, number)
        return decide_group(facts, self.clock()) if facts else None

    def group_handler(self) -> Handler:
        async def group(session: AgiSession) -> None:
            """AGI(group,<extension>,<hops>): overflow or night destination is another group."""
            org = session.accountcode
            args = session.args
            ext = args[0] if args else ""
            hops = int(args[1]) if len(args) > 1 and args[1].isdigit() and len(args[1]) < 4 else 99
            if not ids.SLUG.fullmatch(org) or not ids.EXTENSION.fullmatch(ext):
                await apply_decision(session, GroupRoute("unavailable", reason="bad group goto"))
                return
            structlog.contextvars.bind_contextvars(organization=org)
            route = await self.by_extension(org, ext, hops)
            await apply_decision(session, route or GroupRoute("unavailable", reason="no such group"))

        return group

    def feature_handler(self) -> Handler:
        async def group_feature(session: AgiSession) -> None:
            """AGI(group_feature,login|night,<extension>) from one of the organization's devices."""
            org, endpoint = session.accountcode, session.endpoint
            args = session.args
            feature = args[0] if args else ""
            ext = args[1] if len(args) > 1 else ""
            if not (
                ids.SLUG.fullmatch(org)
                and endpoint
                and feature in ("login", "night")
                and ids.EXTENSION.fullmatch(ext)
            ):
                await apply_variables(session, c.variables({c.ROUTE: "feature-refused"}))
                return
            structlog.contextvars.bind_contextvars(organization=org)
            result = await feature_code(self.pool, org, endpoint, feature, ext)
            if result is None:
                log.info("group.feature.refused", feature=feature, extension=ext)
                await apply_variables(session, c.variables({c.ROUTE: "feature-refused"}))
                return
            log.info("group.feature", feature=feature, extension=ext, on=result.on)
            route = "feature-on" if result.on else "feature-off"
            # PBX_GROUP_ID: the lamp's name
            await apply_variables(session, c.variables({c.ROUTE: route, c.GROUP_ID: int(result.group_id)}))

        return group_feature
