"""The database roles of least privilege: the control service and Asterisk never connect as the
superuser that owns the schema and runs the migrations.

- the service's role (`pbx_service`): reads and writes rows (DML on every table and view, the
  sequences), owns nothing, creates nothing; no superuser, no CREATEROLE/CREATEDB.
- Asterisk's role (`pbx_asterisk`): reads the realtime views extconfig.conf names (ps_* and pbx_*,
  never `users`, `api_tokens` or password hashes), inserts CEL rows (cel_pgsql) and updates the
  queue-member view (app_queue writes a pause there); the triggers those writes fire run as their
  owner (sql/025_least_privilege.sql).

`ensure_roles` is idempotent and runs after every migration (as the owner), so tables added by a
later migration get their grants. Passwords come from the caller (secrets in the state dir) and are
never logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from pbx_control.kernel.db import Conn

SERVICE_ROLE = "pbx_service"
ASTERISK_ROLE = "pbx_asterisk"
_ROLE = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# What Asterisk writes, besides reading its realtime views.
ASTERISK_INSERTS = ("cel",)
ASTERISK_SEQUENCES = ("cel_id_seq",)
ASTERISK_UPDATES = ("pbx_queue_members",)


@dataclass(frozen=True)
class DbRole:
    name: str
    password: str


def realtime_tables(extconfig: str | None = None) -> list[str]:
    """The tables and views extconfig.conf maps to res_config_pgsql (`family => pgsql,general[,table]`)."""
    if extconfig is None:
        extconfig = (files("pbx_control") / "asterisk-config" / "extconfig.conf").read_text()
    found: list[str] = []
    for line in extconfig.splitlines():
        line = line.split(";", 1)[0].strip()
        if "=>" not in line:
            continue
        family, target = (part.strip() for part in line.split("=>", 1))
        parts = [p.strip() for p in target.split(",")]
        if parts[0] != "pgsql":
            continue
        table = parts[2] if len(parts) > 2 else family
        if not _ROLE.fullmatch(table):
            raise ValueError(f"unexpected realtime table {table!r}")
        found.append(table)
    return sorted(set(found))


async def _ensure_login_role(conn: Conn, role: DbRole) -> None:
    if not _ROLE.fullmatch(role.name):
        raise ValueError(f"invalid role name {role.name!r}")
    exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role.name)
    verb = "ALTER" if exists else "CREATE"
    # Utility statements take no parameters: quote the secret server-side (%L), never log it.
    sql = await conn.fetchval(
        "SELECT format('%s ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
        " NOBYPASSRLS NOINHERIT PASSWORD %L', $1::text, $2::text, $3::text)",
        verb,
        role.name,
        role.password,
    )
    await conn.execute(sql)


async def ensure_roles(conn: Conn, service: DbRole, asterisk: DbRole) -> None:
    """Create (or update) both roles and grant what each needs on the current database."""
    await _ensure_login_role(conn, service)
    await _ensure_login_role(conn, asterisk)
    s, a = service.name, asterisk.name
    db = await conn.fetchval("SELECT current_database()")
    statements = [
        f'GRANT CONNECT ON DATABASE "{db}" TO {s}, {a}',
        f"GRANT USAGE ON SCHEMA public TO {s}, {a}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {s}",
        f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {s}",
        # Only the migrator records migrations.
        f"REVOKE INSERT, UPDATE, DELETE ON schema_migrations FROM {s}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {a}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {a}",
    ]
    for table in realtime_tables():
        statements.append(f"GRANT SELECT ON {table} TO {a}")
    for table in ASTERISK_INSERTS:
        statements.append(f"GRANT INSERT ON {table} TO {a}")
    for seq in ASTERISK_SEQUENCES:
        statements.append(f"GRANT USAGE ON SEQUENCE {seq} TO {a}")
    for table in ASTERISK_UPDATES:
        statements.append(f"GRANT UPDATE ON {table} TO {a}")
    async with conn.transaction():
        for statement in statements:
            await conn.execute(statement)
