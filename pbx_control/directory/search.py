"""Searching the directory (colleagues, answer groups) and the phonebooks (shared, personal).

A query is either a number (digits with an optional + and separators: prefix match on extensions,
DIDs and contact numbers, in national, 00, E.164 or extension form; see numbers.search_prefixes) or
words (each word of the query must start some word of the name or company, case-insensitive;
see text.search_words). An empty query lists everything.

Order: starred first (favorite, or VIP: the guide puts VIPs on the favorites page), then each part
alphabetically with Swedish collation (å ä ö after z), then kind and id for a stable order.

The SQL is one of three fixed texts (no query, words, number): what the client typed only ever
travels as parameters.
"""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from pbx_control.directory.numbers import search_prefixes
from pbx_control.directory.text import like_escape, search_words
from pbx_control.kernel.db import Db

Scope = Literal["directory", "shared", "personal"]
Mode = Literal["all", "words", "number", "nothing"]
DEFAULT_LIMIT = 100
MAX_LIMIT = 500

_USERS = """
SELECT 'user'::text AS kind, u.id, u.name, u.extension, NULL::text AS company, u.email,
       'organization'::text AS book, (fc.colleague_id IS NOT NULL) AS favorite,
       false AS vip, false AS blocked
  FROM users u
  LEFT JOIN favorite_colleagues fc ON fc.user_id = $2 AND fc.colleague_id = u.id
 WHERE u.organization_id = $1 {cond}
"""
_GROUPS = """
SELECT 'group'::text, g.id, g.name, g.extension, NULL::text, NULL::text,
       'organization'::text, (fg.group_id IS NOT NULL), false, false
  FROM answer_groups g
  LEFT JOIN favorite_groups fg ON fg.user_id = $2 AND fg.group_id = g.id
 WHERE g.organization_id = $1 {cond}
"""
_CONTACTS = """
SELECT 'contact'::text AS kind, c.id, c.name, NULL::text AS extension, c.company, c.email,
       CASE WHEN c.owner_user_id IS NULL THEN 'shared' ELSE 'personal' END AS book,
       coalesce(m.favorite, false) AS favorite, coalesce(m.vip, false) AS vip,
       coalesce(m.blocked, false) AS blocked
  FROM contacts c
  LEFT JOIN contact_marks m ON m.user_id = $2 AND m.contact_id = c.id
 WHERE c.organization_id = $1 AND {book} {cond}
"""
_BOOKS = {
    "directory": "(c.owner_user_id IS NULL OR c.owner_user_id = $2)",
    "shared": "c.owner_user_id IS NULL",
    "personal": "c.owner_user_id = $2",
}


def _words(expr: str) -> str:
    return f"AND {expr} LIKE $5 AND {expr} LIKE ALL($6::text[])"


_NAME_COND = {
    "users": _words("directory_words(u.name)"),
    "groups": _words("directory_words(g.name)"),
    "contacts": _words("c.search_words"),
}
_NUMBER_COND = {
    "users": "AND (u.extension LIKE $5 OR u.extension LIKE $6 OR EXISTS (SELECT 1 FROM numbers n"
    " WHERE n.user_id = u.id AND (n.number LIKE $5 OR n.number LIKE $6)))",
    "groups": "AND (g.extension LIKE $5 OR g.extension LIKE $6 OR EXISTS (SELECT 1 FROM numbers n"
    " WHERE n.group_id = g.id AND (n.number LIKE $5 OR n.number LIKE $6)))",
    "contacts": "AND c.id IN (SELECT cn.contact_id FROM contact_numbers cn"
    " WHERE cn.organization_id = $1 AND (cn.number LIKE $5 OR cn.number LIKE $6))",
}
_NO_COND = {"users": "", "groups": "", "contacts": ""}

_OUTER = """
SELECT h.*, coalesce(x.numbers, '{{}}') AS numbers, coalesce(x.labels, '{{}}') AS labels
  FROM (SELECT * FROM ({hits}) hits {favorites}
         ORDER BY (favorite OR vip) DESC, name COLLATE directory_sort, kind, id
         LIMIT $3 OFFSET $4) h
  LEFT JOIN LATERAL (
        SELECT array_agg(a.number ORDER BY a.ord) AS numbers, array_agg(a.label ORDER BY a.ord) AS labels
          FROM (SELECT cn.number, cn.label, cn.position::bigint AS ord
                  FROM contact_numbers cn WHERE h.kind = 'contact' AND cn.contact_id = h.id
                UNION ALL
                SELECT h.extension, 'extension', -1 WHERE h.kind IN ('user', 'group')
                UNION ALL
                SELECT n.number, 'direct', n.id
                  FROM numbers n WHERE h.kind = 'user' AND n.user_id = h.id
                UNION ALL
                SELECT n.number, 'direct', n.id
                  FROM numbers n WHERE h.kind = 'group' AND n.group_id = h.id) a) x ON true
 ORDER BY (h.favorite OR h.vip) DESC, h.name COLLATE directory_sort, h.kind, h.id
"""


def build_sql(scope: Scope, mode: Mode, favorites_only: bool) -> str:
    """One of the fixed SQL texts (exposed for tests and EXPLAIN)."""
    cond = {"all": _NO_COND, "words": _NAME_COND, "number": _NUMBER_COND, "nothing": _NO_COND}[mode]
    parts = [_CONTACTS.format(book=_BOOKS[scope], cond=cond["contacts"])]
    if scope == "directory":
        parts = [_USERS.format(cond=cond["users"]), _GROUPS.format(cond=cond["groups"]), *parts]
    hits = " UNION ALL ".join(parts)
    return _OUTER.format(hits=hits, favorites="WHERE favorite OR vip" if favorites_only else "")


def parse_query(q: str | None) -> tuple[Mode, list[str | list[str]]]:
    """The search mode and its parameters ($5, $6) for what the user typed; "nothing" when the query
    has neither letters nor digits (only punctuation: it can match no name)."""
    text = (q or "").strip()
    if not text:
        return "all", []
    prefixes = search_prefixes(text)
    if prefixes is not None:
        first = prefixes[0]
        second = prefixes[1] if len(prefixes) > 1 else first
        return "number", [like_escape(first) + "%", like_escape(second) + "%"]
    words = search_words(text)
    if not words:
        return "nothing", []
    patterns = ["% " + like_escape(w) + "%" for w in words]
    main = max(patterns, key=len)
    return "words", [main, patterns]


def entry_out(row: asyncpg.Record) -> dict[str, Any]:
    out = {k: row[k] for k in ("kind", "id", "name", "extension", "company", "email", "book")}
    out.update(favorite=row["favorite"], vip=row["vip"], blocked=row["blocked"])
    out["numbers"] = [{"number": n, "label": lb} for n, lb in zip(row["numbers"], row["labels"], strict=True)]
    return out


async def search(
    db: Db,
    org_id: int,
    asker_id: int,
    q: str | None,
    *,
    scope: Scope = "directory",
    favorites_only: bool = False,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
) -> list[dict[str, Any]]:
    mode, params = parse_query(q)
    if mode == "nothing":
        return []
    sql = build_sql(scope, mode, favorites_only)
    rows = await db.fetch(sql, org_id, asker_id, limit, offset, *params)
    return [entry_out(r) for r in rows]
