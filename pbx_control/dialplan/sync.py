"""Keep Asterisk's org-<slug> contexts equal to the organizations table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg

from pbx_control.dialplan import org_contexts
from pbx_control.logs import get_logger

log = get_logger(__name__)


async def sync_org_contexts(
    pool: asyncpg.Pool, etc_dir: Path, reload: Callable[[], Awaitable[object]] | None
) -> bool:
    """Rewrite extensions_orgs.conf from the database; reload the dialplan when it changed."""
    slugs = [r["slug"] for r in await pool.fetch("SELECT slug FROM organizations ORDER BY slug")]
    changed = org_contexts.write(etc_dir, slugs)
    if changed:
        log.info("dialplan.org_contexts_written", organizations=len(slugs))
        if reload is not None:
            await reload()
    return changed
