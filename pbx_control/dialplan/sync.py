"""Keep Asterisk's dialplan equal to our data: org-<slug> contexts from the organizations table,
and one way to reload it (through the AMI connection, when this process has one)."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from pbx_control.ami import AmiClient
from pbx_control.dialplan import org_contexts
from pbx_control.logs import get_logger

log = get_logger(__name__)


class Dialplan:
    """The generated part of the dialplan. Files are written by whichever process changes the data;
    the reload goes through AMI, so a process without AMI leaves it to the one with it (which
    rewrites every generated file at each AMI (re)connect)."""

    def __init__(self, pool: asyncpg.Pool, etc_dir: Path, ami: AmiClient | None = None) -> None:
        self.pool = pool
        self.etc_dir = etc_dir
        self.ami = ami

    async def reload(self) -> None:
        if self.ami is not None and self.ami.connected:
            # The Reload action, not the CLI's "dialplan reload": the AMI user has no `command` class.
            await self.ami.send({"Action": "Reload", "Module": "pbx_config"})

    async def write_org_contexts(self) -> bool:
        """Rewrite extensions_orgs.conf from the database; True when it changed."""
        slugs = [r["slug"] for r in await self.pool.fetch("SELECT slug FROM organizations ORDER BY slug")]
        changed = org_contexts.write(self.etc_dir, slugs)
        if changed:
            log.info("dialplan.org_contexts_written", organizations=len(slugs))
        return changed

    async def organizations_changed(self) -> None:
        """After an organization is created or deleted: its context written and loaded."""
        try:
            if await self.write_org_contexts():
                await self.reload()
        except OSError as exc:
            log.warning("dialplan.write_failed", error=str(exc))
