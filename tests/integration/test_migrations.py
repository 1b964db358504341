"""Migrations apply in order on an empty database, and applying them again changes nothing."""

from __future__ import annotations

import asyncpg
import pytest

from pbx_control.db.migrate import migrate, migration_files
from pbx_control.runtime.postgres import PrivateCluster

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]

_SCHEMA = """
SELECT table_name, column_name, data_type FROM information_schema.columns
 WHERE table_schema = 'public' ORDER BY table_name, column_name
"""


async def test_migrations_apply_twice_without_error(pg_cluster: PrivateCluster) -> None:
    admin = await asyncpg.connect(pg_cluster.url("postgres"))
    await admin.execute('DROP DATABASE IF EXISTS "pbx_migrate_twice" WITH (FORCE)')
    await admin.execute('CREATE DATABASE "pbx_migrate_twice"')
    try:
        conn = await asyncpg.connect(pg_cluster.url("pbx_migrate_twice"))
        try:
            first = await migrate(conn)
            assert first == [p.name for p in migration_files()]
            schema = await conn.fetch(_SCHEMA)
            assert await migrate(conn) == []
            assert await conn.fetch(_SCHEMA) == schema
            recorded = await conn.fetchval("SELECT count(*) FROM schema_migrations")
            assert recorded == len(first)
        finally:
            await conn.close()
    finally:
        await admin.execute('DROP DATABASE IF EXISTS "pbx_migrate_twice" WITH (FORCE)')
        await admin.close()
