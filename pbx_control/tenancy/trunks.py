"""SIP trunks to carriers (platform-wide). Asterisk sees them through the ps_* views as
endpoints `trunk_<name>`; `match` is where the carrier's INVITEs come from."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pbx_control.kernel.db import Db, rows, translate_errors
from pbx_control.kernel.errors import Invalid, NotFound

_SELECT = "SELECT id, name, host, port, match, created_at FROM trunks"
_INSERT = (
    "INSERT INTO trunks (name, host, port, match) VALUES ($1, $2, $3, $4)"
    " RETURNING id, name, host, port, match, created_at"
)
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
_HOST_RE = re.compile(r"^[A-Za-z0-9.:-]{1,253}$")


# The widest network a trunk's `match` may name, by IP version (65,536 IPv4 addresses; a /48 site).
MIN_PREFIX = {4: 16, 6: 48}


def _validate(name: str, host: str, port: int, match: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise Invalid("trunk name must be 2 to 31 characters: lowercase letters, digits and _")
    if not isinstance(host, str) or not _HOST_RE.fullmatch(host):
        raise Invalid("host must be a hostname or an IP address")
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise Invalid("port must be from 1 to 65535")
    try:
        network = ipaddress.ip_network(match, strict=False)
    except (TypeError, ValueError) as exc:
        raise Invalid("match must be an IP address or a CIDR network, e.g. 192.0.2.0/24") from exc
    # Whoever sends from `match` speaks for the carrier, with no password: never the whole internet.
    widest = MIN_PREFIX[network.version]
    if network.prefixlen < widest or network.is_unspecified or network.is_multicast:
        raise Invalid(
            f"match is too wide: name the carrier's signalling addresses (at most a /{widest} network)"
        )


async def create_trunk(db: Db, name: str, host: str, port: int = 5060, match: str = "") -> dict[str, Any]:
    _validate(name, host, port, match)
    with translate_errors():
        rec = await db.fetchrow(
            _INSERT,
            name,
            host,
            port,
            match,
        )
    assert rec is not None  # RETURNING gives the row back
    return dict(rec)


async def list_trunks(db: Db) -> list[dict[str, Any]]:
    return rows(await db.fetch(f"{_SELECT} ORDER BY id"))


async def get_trunk(db: Db, trunk_id: int) -> dict[str, Any]:
    rec = await db.fetchrow(f"{_SELECT} WHERE id = $1", trunk_id)
    if rec is None:
        raise NotFound("trunk not found")
    return dict(rec)


async def delete_trunk(db: Db, trunk_id: int) -> None:
    status = await db.execute("DELETE FROM trunks WHERE id = $1", trunk_id)
    if status == "DELETE 0":
        raise NotFound("trunk not found")
