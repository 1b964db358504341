"""Apply pbx_control/sql/NNN_*.sql in order, each once, recorded in schema_migrations.

Idempotent: running it again applies nothing. An advisory lock keeps two processes from
migrating at once.
"""

from __future__ import annotations

import re
from importlib.resources import files
from importlib.resources.abc import Traversable

from pbx_control.kernel.db import Conn

# Package data: shipped in the wheel, so an installed package migrates without a checkout.
SQL_DIR = files("pbx_control") / "sql"
_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")
_LOCK_KEY = 7_454_001


def migration_files(sql_dir: Traversable = SQL_DIR) -> list[Traversable]:
    found = [p for p in sql_dir.iterdir() if _NAME.match(p.name)]
    return sorted(found, key=lambda p: p.name)


async def migrate(conn: Conn, sql_dir: Traversable = SQL_DIR) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        # Asked first: the service's role (runtime/db_roles.py) may not create anything, and finds
        # nothing to apply once the owner has migrated.
        if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for path in migration_files(sql_dir):
            if path.name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.name)
            applied_now.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return applied_now
