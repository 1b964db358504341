"""Shared database helpers: a transaction over a connection or a pool, constraint translation."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias

import asyncpg
import asyncpg.pool

from pbx_control.kernel.errors import Conflict, Invalid, NotFound

# A connection: one of our own, or one borrowed from a pool (asyncpg hands out a proxy).
Conn: TypeAlias = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
# Where queries run: a connection, or a pool (each query on a connection of its own).
Db: TypeAlias = Conn | asyncpg.Pool

# What asyncpg raises when the server is gone or refuses work, beside OSError on connect.
CONNECTION_ERRORS: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,  # 08: connection failure, closed in the middle of a query
    asyncpg.OperatorInterventionError,  # 57: shutdown, cannot connect now, query cancelled
    asyncpg.InsufficientResourcesError,  # 53: too many connections, disk full, out of memory
    asyncpg.InvalidCatalogNameError,  # 3D000: the database does not exist (dropped)
)

_UNIQUE_MESSAGES = {
    # Usernames are global (logins name no organization): say nothing of who holds it, or where.
    "users_username_key": "username is not available",
    "users_organization_id_extension_key": "extension is already taken in this organization",
    "devices_sip_username_key": "sip_username is already taken",
    "numbers_number_key": "number is already in use",
    "organizations_slug_key": "slug is already taken",
    "trunks_name_key": "trunk name is already taken",
    "extension_used_by_group": "extension is already taken in this organization (by an answer group)",
    "extension_used_by_user": "extension is already taken in this organization (by a user)",
    # Device and trunk names share Asterisk's namespace (pbx_control/sql/009); an organization's admin learns
    # no more than for another device's name.
    "sip_name_used_by_trunk": "sip_username is already taken",
    "sip_name_used_by_device": "trunk name is already taken (a device's sip_username is trunk_<name>)",
    # Number ranges (pbx_control/sql/019): only the platform admin gets these (an organization's
    # admin is refused before, the same way whoever holds the number).
    "number_in_other_range": "number is in another organization's range",
    "range_overlaps_other": "range overlaps another organization's range",
    "range_holds_other_number": "range holds a number of another organization",
}


@asynccontextmanager
async def transaction(db: Db) -> AsyncIterator[Conn]:
    """Yield a connection inside a transaction (a savepoint if one is already open).

    Domain errors raised inside roll everything back, so bad input changes nothing.
    """
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            with translate_errors():
                yield conn
    else:
        async with db.transaction():
            with translate_errors():
                yield db


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn constraint violations that slipped past validation into domain errors."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        message = _UNIQUE_MESSAGES.get(exc.constraint_name or "", "value is already taken")
        raise Conflict(message) from exc
    except asyncpg.CheckViolationError as exc:
        raise Invalid(f"value rejected by constraint {exc.constraint_name}") from exc
    except asyncpg.ForeignKeyViolationError as exc:
        raise NotFound("referenced row not found") from exc
    except asyncpg.NotNullViolationError as exc:
        raise Invalid(f"{exc.column_name} is required") from exc


def row(record: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None


def rows(records: list[asyncpg.Record]) -> list[dict[str, Any]]:
    return [dict(r) for r in records]
