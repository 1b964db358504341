"""The name to show for an incoming caller (CALLERID(name)), looked up on every call's path.

Order: the callee's personal phonebook, then colleagues (a user's extension, a user's DID), then
the organization's shared phonebook. Within one source, the alphabetically first name wins. One
query, each branch on an index: contact_numbers_lookup (organization_id, number), users
(organization_id, extension) and numbers (number).

The returned name is display-safe (pbx_control.directory.text.safe_display_name): no control or
format characters, at most 64 characters. Quotes and non-Latin letters stay; the AGI layer quotes.
"""

from __future__ import annotations

from collections.abc import Iterable

from pbx_control.directory.numbers import caller_number
from pbx_control.directory.text import safe_display_name
from pbx_control.kernel.db import Db

_LOOKUP = """
WITH org AS (SELECT id FROM organizations WHERE slug = $1)
SELECT name FROM (
    SELECT 1 AS source, c.name
      FROM contact_numbers cn JOIN contacts c ON c.id = cn.contact_id
     WHERE cn.organization_id = (SELECT id FROM org) AND cn.number = $3 AND cn.owner_user_id = $2
    UNION ALL
    SELECT 2, u.name
      FROM users u
     WHERE u.organization_id = (SELECT id FROM org) AND u.extension = $3
    UNION ALL
    SELECT 3, u.name
      FROM numbers n JOIN users u ON u.id = n.user_id
     WHERE n.number = $3 AND n.organization_id = (SELECT id FROM org)
    UNION ALL
    SELECT 4, c.name
      FROM contact_numbers cn JOIN contacts c ON c.id = cn.contact_id
     WHERE cn.organization_id = (SELECT id FROM org) AND cn.number = $3 AND cn.owner_user_id IS NULL
) found
ORDER BY source, name
LIMIT 1
"""


async def caller_name(
    db: Db,
    organization: str,
    callee_user_id: int | None,
    number: str,
) -> str | None:
    """The caller's name for the callee, or None (unknown, anonymous or no number at all).

    organization: the organization's slug; number: E.164 or an extension as the caller presents it
    (national "070..." and carriers' "4670..." are normalized here).
    """
    stored = caller_number(number)
    if stored is None:
        return None
    name = await db.fetchval(_LOOKUP, organization, callee_user_id, stored)
    return safe_display_name(name)


_LOOKUP_MANY = """
WITH org AS (SELECT id FROM organizations WHERE slug = $1),
wanted AS (SELECT DISTINCT unnest($3::text[]) AS number)
SELECT DISTINCT ON (w.number) w.number, f.name
  FROM wanted w
  JOIN LATERAL (
    SELECT 1 AS source, c.name
      FROM contact_numbers cn JOIN contacts c ON c.id = cn.contact_id
     WHERE cn.organization_id = (SELECT id FROM org) AND cn.number = w.number AND cn.owner_user_id = $2
    UNION ALL
    SELECT 2, u.name
      FROM users u
     WHERE u.organization_id = (SELECT id FROM org) AND u.extension = w.number
    UNION ALL
    SELECT 3, u.name
      FROM numbers n JOIN users u ON u.id = n.user_id
     WHERE n.number = w.number AND n.organization_id = (SELECT id FROM org)
    UNION ALL
    SELECT 4, c.name
      FROM contact_numbers cn JOIN contacts c ON c.id = cn.contact_id
     WHERE cn.organization_id = (SELECT id FROM org) AND cn.number = w.number AND cn.owner_user_id IS NULL
  ) f ON true
 ORDER BY w.number, f.source, f.name
"""


async def caller_names(
    db: Db, organization: str, callee_user_id: int | None, numbers: Iterable[str]
) -> dict[str, str | None]:
    """caller_name for many numbers in one query (a page of call history): number -> name."""
    stored = {n: caller_number(n) for n in set(numbers)}
    wanted = sorted({s for s in stored.values() if s is not None})
    found: dict[str, str] = {}
    if wanted:
        rows = await db.fetch(_LOOKUP_MANY, organization, callee_user_id, wanted)
        found = {r["number"]: r["name"] for r in rows}
    return {n: safe_display_name(found.get(s)) if s is not None else None for n, s in stored.items()}
