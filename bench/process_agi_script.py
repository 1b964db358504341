"""The route decision as a classic process AGI: Asterisk starts this script for every call, it
reads the env on stdin with pyst2, opens its own database connection, runs the same route handler
as the FastAGI server (users; targets of other features are wired in the service only) and sets
the variables through pyst2 on stdout. Run by bench.process_agi with PBX_DATABASE_URL set."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping

import asyncpg
from asterisk.agi import AGI  # type: ignore[import-untyped]

from pbx_control.agi.session import AgiSession
from pbx_control.routing.agi import make_route_handler
from pbx_control.routing.calls import CallRouter
from pbx_control.routing.repository import RoutingRepository
from pbx_control.routing.targets import Targets


class Pyst2Session(AgiSession):
    """An AgiSession whose commands go through pyst2 (stdin/stdout) instead of a socket."""

    def __init__(self, agi: AGI) -> None:
        super().__init__(None, None, agi.env)  # type: ignore[arg-type]
        self._agi = agi

    async def set_variable(self, name: str, value: str | int) -> None:
        self._agi.set_variable(name, str(value))

    async def set_variables_and_end(self, variables: Mapping[str, str]) -> None:
        for name, value in variables.items():  # pyst2 waits for each reply, as process AGIs do
            self._agi.set_variable(name, value)

    async def get_variable(self, name: str) -> str | None:
        return self._agi.get_variable(name) or None


async def main() -> None:
    agi = AGI()
    conn = await asyncpg.connect(os.environ["PBX_DATABASE_URL"])
    try:
        router = CallRouter(RoutingRepository(conn), Targets())  # type: ignore[arg-type]  # one connection, not a pool
        await make_route_handler(router)(Pyst2Session(agi))
    finally:
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
