"""Contacts in the organization's shared phonebook (owner NULL) and in users' personal phonebooks.

Who sees what: a shared contact is visible to every member of its organization; a personal contact
only to its owner. Anything else is NotFound, exactly like a missing id. Who may change a shared
contact (admins and operators) is the API's rule; this module only keeps books apart.

Every change that touches a contact's numbers re-projects the VIP/blocked marks of every user who
marked it (pbx_control.directory.marks), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from pbx_control.directory.drafts import Contact, check, draft_from
from pbx_control.kernel.db import Conn, Db
from pbx_control.kernel.errors import Conflict, Forbidden, NotFound
from pbx_control.reachability import callers

MAX_BOOK_SIZE = 50_000

SELECT_CONTACT = """
SELECT c.id, c.organization_id, c.owner_user_id, c.name, c.company, c.email, c.note,
       c.created_at, c.updated_at,
       coalesce(m.favorite, false) AS favorite, coalesce(m.vip, false) AS vip,
       coalesce(m.blocked, false) AS blocked,
       coalesce(n.numbers, '{}') AS numbers, coalesce(n.labels, '{}') AS labels
  FROM contacts c
  LEFT JOIN contact_marks m ON m.contact_id = c.id AND m.user_id = $2
  LEFT JOIN LATERAL (
        SELECT array_agg(cn.number ORDER BY cn.position) AS numbers,
               array_agg(cn.label ORDER BY cn.position) AS labels
          FROM contact_numbers cn WHERE cn.contact_id = c.id) n ON true
"""


def contact_out(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """A contact as the API shows it to the user whose marks were joined."""
    return {
        "id": row["id"],
        "book": "shared" if row["owner_user_id"] is None else "personal",
        "name": row["name"],
        "company": row["company"],
        "email": row["email"],
        "note": row["note"],
        "numbers": [{"number": n, "label": lb} for n, lb in zip(row["numbers"], row["labels"], strict=True)],
        "favorite": row["favorite"],
        "vip": row["vip"],
        "blocked": row["blocked"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


async def get_visible(conn: Db, org_id: int, user_id: int, contact_id: int) -> dict[str, Any]:
    """The contact if `user_id` of `org_id` may see it, else NotFound."""
    row = await conn.fetchrow(
        SELECT_CONTACT
        + " WHERE c.id = $1 AND c.organization_id = $3 AND (c.owner_user_id IS NULL OR c.owner_user_id = $2)",
        contact_id,
        user_id,
        org_id,
    )
    if row is None:
        raise NotFound("no such contact")
    return dict(row)


async def _insert_numbers(
    conn: Conn, contact_id: int, org_id: int, owner: int | None, contact: Contact
) -> None:
    if contact.numbers:
        await conn.executemany(
            "INSERT INTO contact_numbers"
            " (contact_id, organization_id, owner_user_id, position, number, label)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            [(contact_id, org_id, owner, i, n, lb) for i, (n, lb) in enumerate(contact.numbers)],
        )


async def book_size(conn: Conn, org_id: int, owner: int | None) -> int:
    size: int = await conn.fetchval(
        "SELECT count(*) FROM contacts WHERE organization_id = $1 AND owner_user_id IS NOT DISTINCT FROM $2",
        org_id,
        owner,
    )
    return size


async def insert_contact(conn: Conn, org_id: int, owner: int | None, contact: Contact) -> int:
    """Insert a checked contact (no marks yet, so nothing to project); the caller holds a transaction."""
    contact_id: int = await conn.fetchval(
        "INSERT INTO contacts (organization_id, owner_user_id, name, company, email, note)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        org_id,
        owner,
        contact.name,
        contact.company,
        contact.email,
        contact.note,
    )
    await _insert_numbers(conn, contact_id, org_id, owner, contact)
    return contact_id


async def create_contact(
    conn: Conn, org_id: int, owner: int | None, asker_id: int, contact: Contact
) -> dict[str, Any]:
    """Add a contact to the shared book (owner None) or a personal one; returns it as `asker_id` sees it."""
    async with conn.transaction():
        if await book_size(conn, org_id, owner) >= MAX_BOOK_SIZE:
            raise Conflict(f"the phonebook is full ({MAX_BOOK_SIZE} contacts)")
        contact_id = await insert_contact(conn, org_id, owner, contact)
        return await get_visible(conn, org_id, asker_id, contact_id)


async def update_contact(
    conn: Conn,
    org_id: int,
    asker_id: int,
    contact_id: int,
    changes: Mapping[str, Any],
    *,
    may_edit_shared: bool,
) -> dict[str, Any]:
    """Change the fields given of a visible contact (`numbers` replaces the list, None clears a
    field); marks follow the numbers into caller_lists. The row is locked before it is read, so a
    concurrent change of other fields is kept. A shared contact needs may_edit_shared (Forbidden)."""
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT owner_user_id FROM contacts WHERE id = $1 AND organization_id = $2"
            " AND (owner_user_id IS NULL OR owner_user_id = $3) FOR UPDATE",
            contact_id,
            org_id,
            asker_id,
        )
        if row is None:
            raise NotFound("no such contact")
        owner = row["owner_user_id"]
        if owner is None and not may_edit_shared:
            raise Forbidden("only admins and operators change the shared phonebook")
        current = await get_visible(conn, org_id, asker_id, contact_id)
        fields: dict[str, Any] = {k: current[k] for k in ("name", "company", "email", "note")}
        fields["numbers"] = [
            {"number": n, "label": lb} for n, lb in zip(current["numbers"], current["labels"], strict=True)
        ]
        contact = check(draft_from({**fields, **changes}))
        old_numbers = await callers.contact_numbers(conn, contact_id)
        await conn.execute(
            "UPDATE contacts SET name = $2, company = $3, email = $4, note = $5, updated_at = now()"
            " WHERE id = $1",
            contact_id,
            contact.name,
            contact.company,
            contact.email,
            contact.note,
        )
        new_numbers = [n for n, _ in contact.numbers]
        await conn.execute("DELETE FROM contact_numbers WHERE contact_id = $1", contact_id)
        await _insert_numbers(conn, contact_id, org_id, owner, contact)
        await callers.reproject(
            conn, await callers.marking_users(conn, contact_id), old_numbers + new_numbers
        )
        return await get_visible(conn, org_id, asker_id, contact_id)


async def delete_contact(conn: Conn, org_id: int, asker_id: int, contact_id: int) -> None:
    """Delete a visible contact; its VIP/blocked rows leave every caller list that had them."""
    async with conn.transaction():
        owner_found = await conn.fetchval(
            "SELECT true FROM contacts WHERE id = $1 AND organization_id = $2"
            " AND (owner_user_id IS NULL OR owner_user_id = $3) FOR UPDATE",
            contact_id,
            org_id,
            asker_id,
        )
        if owner_found is None:
            raise NotFound("no such contact")
        users = await callers.marking_users(conn, contact_id)
        numbers = await callers.contact_numbers(conn, contact_id)
        await conn.execute("DELETE FROM contacts WHERE id = $1", contact_id)
        # caller_lists.contact_id has no foreign key (002 is shared): clear by id, then re-project.
        await conn.execute("DELETE FROM caller_lists WHERE contact_id = $1", contact_id)
        await callers.reproject(conn, users, numbers)
