"""Meetings over HTTP on PostgreSQL: create with PINs and an invitation, list, read, change,
delete; who may change what; another organization's meeting is 404; bad input changes nothing."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.tenancy import numbers
from pbx_control.testing import World, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.meetings]


async def _h(client: TestClient, who: str) -> dict[str, str]:
    return bearer(await login(client, who))


async def test_create_gives_pins_and_an_invitation(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    user = await _h(client, "alpha-user")
    resp = await client.post(
        "/api/v1/meetings", json={"name": "Veckomöte", "starts_at": "2026-12-03T10:30:00+01:00"}, headers=user
    )
    body = await resp.json()
    assert resp.status == 201, body
    assert body["owner_user_id"] == world.users["alpha-user"]
    pin, host_pin = body["pin"], body["host_pin"]
    assert len(pin) >= 6 and pin.isdigit() and len(host_pin) >= 6 and host_pin != pin
    inv = body["invitation"]
    assert inv["pin"] == pin and inv["dial_in_extension"] == "*80" and inv["dial_in_number"] is None
    assert f"PIN-kod: {pin}" in inv["text_sv"] and "kl. 10:30" in inv["text_sv"]
    assert f"PIN: {pin}" in inv["text_en"] and "Ring utifrån" not in inv["text_sv"]

    # the organization's outside dial-in appears in the invitation once an admin sets it
    admin = await _h(client, "alpha-admin")
    resp = await client.put("/api/v1/meetings/dial-in", json={"number": "+46870000000"}, headers=admin)
    assert resp.status == 409  # alpha-user's number
    async with db_pool.acquire() as conn:
        await numbers.create_number(conn, world.orgs["alpha"], "+46870000099")
    resp = await client.put("/api/v1/meetings/dial-in", json={"number": "+46870000099"}, headers=admin)
    assert resp.status == 200, await resp.json()
    resp = await client.get(f"/api/v1/meetings/{body['id']}", headers=user)
    got = await resp.json()
    assert got["invitation"]["dial_in_number"] == "+46870000099"
    assert "Ring utifrån: +46870000099" in got["invitation"]["text_sv"]
    # another organization's number cannot be the dial-in
    resp = await client.put("/api/v1/meetings/dial-in", json={"number": "+46870000001"}, headers=admin)
    assert resp.status == 404

    resp = await client.get(f"/api/v1/meetings/{body['id']}/invitation.ics", headers=user)
    assert resp.status == 200 and resp.content_type == "text/calendar"
    ics = (await resp.text()).replace("\r\n ", "")
    assert "BEGIN:VEVENT" in ics and "DTSTART:20261203T093000Z" in ics and pin in ics

    # a colleague sees the meeting and its PIN but not the host PIN
    op = await _h(client, "alpha-operator")
    listed = await (await client.get("/api/v1/meetings", headers=op)).json()
    assert [m["id"] for m in listed] == [body["id"]] and listed[0]["host_pin"] is None
    mine = await (await client.get("/api/v1/meetings?mine=true", headers=op)).json()
    assert mine == []


async def test_only_owner_or_admin_changes_and_other_orgs_get_404(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    user = await _h(client, "alpha-user")
    made = await (await client.post("/api/v1/meetings", json={"name": "Plan"}, headers=user)).json()
    mid = made["id"]
    op = await _h(client, "alpha-operator")
    resp = await client.patch(f"/api/v1/meetings/{mid}", json={"name": "Mine"}, headers=op)
    assert resp.status == 403 and (await resp.json())["error"]["code"]
    resp = await client.delete(f"/api/v1/meetings/{mid}", headers=op)
    assert resp.status == 403

    beta = await _h(client, "beta-admin")
    for method in ("get", "patch", "delete"):
        kw = {"json": {"name": "x"}} if method == "patch" else {}
        resp = await getattr(client, method)(f"/api/v1/meetings/{mid}", headers=beta, **kw)
        assert resp.status == 404, method
    resp = await client.get(f"/api/v1/meetings/{mid}/invitation.ics", headers=beta)
    assert resp.status == 404
    assert await (await client.get("/api/v1/meetings", headers=beta)).json() == []

    admin = await _h(client, "alpha-admin")
    resp = await client.patch(
        f"/api/v1/meetings/{mid}", json={"name": "Plan B", "new_pins": True}, headers=admin
    )
    changed = await resp.json()
    assert resp.status == 200, changed
    assert changed["name"] == "Plan B" and changed["pin"] != made["pin"]

    resp = await client.delete(f"/api/v1/meetings/{mid}", headers=user)
    assert resp.status == 204
    assert (await client.get(f"/api/v1/meetings/{mid}", headers=user)).status == 404
    async with db_pool.acquire() as conn:  # kept, so its PINs stay reserved and the dial-in can say so
        assert await conn.fetchval("SELECT deleted_at IS NOT NULL FROM meetings WHERE id = $1", mid)


BAD = [
    {},
    {"name": ""},
    {"name": "x" * 201},
    {"name": "x", "starts_at": "2026-12-03T10:00:00"},  # no time zone
    {"name": "x", "starts_at": "2026-12-03T10:00:00Z", "ends_at": "2026-12-03T09:00:00Z"},
    {"name": "x", "pin": "123456"},  # PINs are drawn, never chosen
]


@pytest.mark.parametrize("payload", BAD)
async def test_bad_input_is_400_and_changes_nothing(
    client: TestClient, db_pool: asyncpg.Pool, payload: dict[str, object]
) -> None:
    user = await _h(client, "alpha-user")
    resp = await client.post("/api/v1/meetings", json=payload, headers=user)
    body = await resp.json()
    assert resp.status == 400, body
    assert set(body["error"]) == {"code", "message"}
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM meetings") == 0


async def test_pins_are_unique_within_an_organization(client: TestClient, db_pool: asyncpg.Pool) -> None:
    user = await _h(client, "alpha-user")
    for i in range(30):
        resp = await client.post("/api/v1/meetings", json={"name": f"m{i}"}, headers=user)
        assert resp.status == 201
    async with db_pool.acquire() as conn:
        pins = await conn.fetch("SELECT pin FROM meetings UNION ALL SELECT host_pin FROM meetings")
    assert len({r["pin"] for r in pins}) == 60


async def test_conference_limit_is_the_admins_and_bad_participants_change_nothing(
    client: TestClient, db_pool: asyncpg.Pool
) -> None:
    user, admin = await _h(client, "alpha-user"), await _h(client, "alpha-admin")
    resp = await client.get("/api/v1/conference-settings", headers=user)
    assert (resp.status, await resp.json()) == (200, {"max_participants": 10})
    resp = await client.put("/api/v1/conference-settings", json={"max_participants": 4}, headers=user)
    assert resp.status == 403
    for bad in (1, 51, "many"):
        resp = await client.put("/api/v1/conference-settings", json={"max_participants": bad}, headers=admin)
        assert resp.status == 400 and "error" in await resp.json()
    resp = await client.put("/api/v1/conference-settings", json={"max_participants": 4}, headers=admin)
    assert (resp.status, await resp.json()) == (200, {"max_participants": 4})
    resp = await client.get("/api/v1/conference-settings", headers=user)
    assert (await resp.json())["max_participants"] == 4
    # destinations are checked before anything is stored or rung: no such colleague, premium rate,
    # international (the call policy's refused classes), oneself
    before = await db_pool.fetchval("SELECT count(*) FROM conferences")
    for bad, code in (
        ("1999", "invalid"),
        ("0900123456", "destination_not_allowed"),
        ("+4412345678", "destination_not_allowed"),
        ("1001", "invalid"),
    ):
        resp = await client.post("/api/v1/conferences", json={"participants": [bad]}, headers=user)
        body = await resp.json()
        assert resp.status == 400 and body["error"]["code"] == code, (bad, body)
    assert await db_pool.fetchval("SELECT count(*) FROM conferences") == before
