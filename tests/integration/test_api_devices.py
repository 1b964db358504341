"""Devices through the API: the SIP password is shown once, and Asterisk's ps_* views see the
endpoint at once with md5_cred = md5(username:pbx-control:password)."""

from __future__ import annotations

import hashlib

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.testing import World, bearer, login, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.tenancy]


def _md5(user: str, password: str) -> str:
    return hashlib.md5(f"{user}:pbx-control:{password}".encode(), usedforsecurity=False).hexdigest()


async def test_create_device_returns_the_password_once_and_asterisk_sees_it(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    user_id = world.users["alpha-user"]
    resp = await client.post(
        f"{PREFIX}/users/{user_id}/devices", json={"kind": "mobile", "label": "Åsa's phone"}, headers=admin
    )
    assert resp.status == 201
    body = await resp.json()
    sip, device = body["sip"], body["device"]
    assert sip["username"] == device["sip_username"] == "alpha_1001_2"  # _1 is the seeded desk phone
    assert sip["realm"] == "pbx-control" and sip["domain"] == "pbx.test" and sip["port"] == 5060
    assert sip["registrar"] == "sip:pbx.test:5060" and sip["aor"] == "sip:alpha_1001_2@pbx.test"
    assert len(sip["password"]) >= 20 and device["label"] == "Åsa's phone"

    endpoint = await db_pool.fetchrow("SELECT * FROM ps_endpoints WHERE id = $1", sip["username"])
    assert endpoint is not None
    assert endpoint["context"] == "org-alpha" and endpoint["aors"] == sip["username"]
    assert endpoint["callerid"] == '"alpha user" <1001>'
    auth = await db_pool.fetchrow("SELECT * FROM ps_auths WHERE id = $1", sip["username"])
    assert auth is not None
    assert auth["realm"] == "pbx-control" and auth["username"] == sip["username"]
    assert auth["md5_cred"] == _md5(sip["username"], sip["password"])
    assert await db_pool.fetchval("SELECT count(*) FROM ps_aors WHERE id = $1", sip["username"]) == 1

    # The password is nowhere else: not in the list, not in the database.
    listed = await client.get(f"{PREFIX}/users/{user_id}/devices", headers=admin)
    text = await listed.text()
    assert sip["password"] not in text and "md5" not in text
    assert [d["sip_username"] for d in await listed.json()] == ["alpha_1001_1", "alpha_1001_2"]
    dump = str(await snapshot(db_pool))
    assert sip["password"] not in dump


async def test_given_sip_username_and_password(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    resp = await client.post(
        f"{PREFIX}/users/{world.users['alpha-admin']}/devices",
        json={"kind": "desk", "sip_username": "alpha_reception", "password": "Twelve-chars!"},
        headers=admin,
    )
    assert resp.status == 201
    assert (await resp.json())["sip"]["password"] == "Twelve-chars!"
    cred = await db_pool.fetchval("SELECT md5_cred FROM ps_auths WHERE id = 'alpha_reception'")
    assert cred == _md5("alpha_reception", "Twelve-chars!")
    taken = await client.post(
        f"{PREFIX}/users/{world.users['alpha-admin']}/devices",
        json={"kind": "desk", "sip_username": "beta_1001_1"},
        headers=admin,
    )
    assert taken.status == 409 and (await taken.json())["error"]["code"] == "conflict"


async def test_reset_password(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    device = await db_pool.fetchrow("SELECT id FROM devices WHERE user_id = $1", world.users["alpha-user"])
    assert device is not None
    device_id = device["id"]
    old = await db_pool.fetchval("SELECT sip_md5_cred FROM devices WHERE id = $1", device_id)
    resp = await client.post(f"{PREFIX}/devices/{device_id}/reset-password", headers=admin)
    assert resp.status == 200
    sip = (await resp.json())["sip"]
    new = await db_pool.fetchval("SELECT sip_md5_cred FROM devices WHERE id = $1", device_id)
    assert new != old and new == _md5("alpha_1001_1", sip["password"])
    resp = await client.post(
        f"{PREFIX}/devices/{device_id}/reset-password", json={"password": "short"}, headers=admin
    )
    assert resp.status == 400 and "12" in (await resp.json())["error"]["message"]
    assert await db_pool.fetchval("SELECT sip_md5_cred FROM devices WHERE id = $1", device_id) == new


async def test_extension_change_keeps_the_endpoint(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    user_id = world.users["alpha-user"]
    resp = await client.patch(f"{PREFIX}/users/{user_id}", json={"extension": "2001"}, headers=admin)
    assert resp.status == 200 and (await resp.json())["extension"] == "2001"
    endpoint = await db_pool.fetchrow("SELECT id, callerid FROM ps_endpoints WHERE id = 'alpha_1001_1'")
    assert endpoint is not None
    assert endpoint["callerid"] == '"alpha user" <2001>'
    created = await client.post(f"{PREFIX}/users/{user_id}/devices", json={"kind": "web"}, headers=admin)
    assert (await created.json())["device"]["sip_username"] == "alpha_2001_1"


async def test_delete_device_removes_the_endpoint(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    device_id = world.devices["alpha-user"]
    assert (await client.delete(f"{PREFIX}/devices/{device_id}", headers=admin)).status == 204
    assert await db_pool.fetchval("SELECT count(*) FROM ps_endpoints WHERE id = 'alpha_1001_1'") == 0
    assert (await client.delete(f"{PREFIX}/devices/{device_id}", headers=admin)).status == 404


async def test_bad_device_input_changes_nothing(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    before = await snapshot(db_pool)
    url = f"{PREFIX}/users/{world.users['alpha-user']}/devices"
    for body, field in (
        ({"kind": "fax"}, "kind"),
        ({}, "kind"),
        ({"kind": "desk", "sip_username": "Bad-Name"}, "sip_username"),
        ({"kind": "desk", "password": "too short"}, "SIP password"),
        ({"kind": "desk", "label": "x" * 101}, "label"),
        ({"kind": "desk", "owner": 1}, "owner"),
    ):
        resp = await client.post(url, json=body, headers=admin)
        assert resp.status == 400, body
        assert field in (await resp.json())["error"]["message"], body
    assert await snapshot(db_pool) == before


async def test_callerid_has_no_control_characters(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    resp = await client.patch(
        f"{PREFIX}/users/{world.users['alpha-user']}",
        json={"name": 'Evil "Name"\r\nX-Injected: 1'},
        headers=admin,
    )
    assert resp.status == 200
    assert (await resp.json())["name"] == 'Evil "Name"\r\nX-Injected: 1'  # stored as given
    callerid = await db_pool.fetchval("SELECT callerid FROM ps_endpoints WHERE id = 'alpha_1001_1'")
    assert '"' not in callerid.strip('"').split('" <')[0]
    assert "\r" not in callerid and "\n" not in callerid


async def test_my_phones_setup_and_a_new_password_for_my_own_only(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    """The app's desk phone / softphone setup: my own devices, never a password but the new one."""
    user = bearer(await login(client, "alpha-user"))
    await client.post(f"{PREFIX}/users/me/webphone", headers=user)  # the app's own: not listed
    resp = await client.get(f"{PREFIX}/users/me/devices", headers=user)
    assert resp.status == 200
    listed = await resp.json()
    assert [d["username"] for d in listed] == ["alpha_1001_1"]
    one = listed[0]
    assert one["device"]["id"] == world.devices["alpha-user"] and one["password"] is None
    assert (one["domain"], one["port"], one["transport"]) == ("pbx.test", 5060, "udp")
    assert one["registrar"] == "sip:pbx.test:5060" and one["tls_registrar"] == "sips:pbx.test:5061"
    assert one["setup_uri"] == "sip:alpha_1001_1@pbx.test:5060;transport=udp"
    assert "md5" not in await resp.text() and "ha1" not in await resp.text()

    old = await db_pool.fetchval("SELECT sip_md5_cred FROM devices WHERE id = $1", one["device"]["id"])
    resp = await client.post(f"{PREFIX}/users/me/devices/{one['device']['id']}/password", headers=user)
    assert resp.status == 200
    made = await resp.json()
    password = made["password"]
    assert len(password) >= 20
    assert made["setup_uri"] == f"sip:alpha_1001_1:{password}@pbx.test:5060;transport=udp"
    new = await db_pool.fetchval("SELECT sip_md5_cred FROM devices WHERE id = $1", one["device"]["id"])
    assert new != old and new == _md5("alpha_1001_1", password)
    again = await client.get(f"{PREFIX}/users/me/devices", headers=user)
    assert password not in await again.text()

    # A colleague's device, another organization's, or my web device: nothing changes.
    web = await db_pool.fetchval("SELECT id FROM devices WHERE sip_username = 'alpha_1001_2'")
    made = await client.post(
        f"{PREFIX}/users/{world.users['alpha-admin']}/devices", json={"kind": "desk"}, headers=admin
    )
    colleagues = (await made.json())["device"]["id"]
    before = await snapshot(db_pool)
    for device_id, status in (
        (colleagues, 404),
        (world.devices["beta-user"], 404),
        (web, 409),
    ):
        resp = await client.post(f"{PREFIX}/users/me/devices/{device_id}/password", headers=user)
        assert resp.status == status, device_id
        assert (await resp.json())["error"]["code"]
    assert await snapshot(db_pool) == before

    # A phone the admin moved to TLS is set up over TLS: the TLS registrar, port and transport.
    resp = await client.patch(
        f"{PREFIX}/devices/{one['device']['id']}", json={"transport": "tls"}, headers=admin
    )
    assert resp.status == 200, await resp.text()
    (tls,) = await (await client.get(f"{PREFIX}/users/me/devices", headers=user)).json()
    assert tls["transport"] == "tls"
    assert tls["setup_uri"] == "sip:alpha_1001_1@pbx.test:5061;transport=tls"


async def test_tls_and_srtp_reach_the_endpoint_and_sdes_needs_tls(
    client: TestClient, world: World, admin: dict[str, str], db_pool: asyncpg.Pool
) -> None:
    user_id = world.users["alpha-user"]
    url = f"{PREFIX}/users/{user_id}/devices"
    resp = await client.post(url, json={"kind": "desk", "media_encryption": "sdes"}, headers=admin)
    assert resp.status == 400
    assert "needs transport tls" in (await resp.json())["error"]["message"]
    resp = await client.post(
        url, json={"kind": "desk", "transport": "tls", "media_encryption": "sdes"}, headers=admin
    )
    assert resp.status == 201
    body = await resp.json()
    name = body["device"]["sip_username"]
    assert body["sip"]["transport"] == "tls" and body["device"]["media_encryption"] == "sdes"
    endpoint = await db_pool.fetchrow(
        "SELECT transport, media_encryption FROM ps_endpoints WHERE id = $1", name
    )
    assert endpoint is not None
    assert (endpoint["transport"], endpoint["media_encryption"]) == ("transport-tls", "sdes")
    plain = await db_pool.fetchrow(
        "SELECT transport, media_encryption FROM ps_endpoints WHERE id = 'alpha_1001_1'"
    )
    assert plain is not None
    assert (plain["transport"], plain["media_encryption"]) == ("transport-udp", None)
    # PATCH: back to udp while sdes is on is refused, and nothing changes
    resp = await client.patch(
        f"{PREFIX}/devices/{body['device']['id']}", json={"transport": "udp"}, headers=admin
    )
    assert resp.status == 400
    resp = await client.patch(
        f"{PREFIX}/devices/{body['device']['id']}",
        json={"transport": "udp", "media_encryption": "none"},
        headers=admin,
    )
    assert resp.status == 200 and (await resp.json())["transport"] == "udp"
    endpoint = await db_pool.fetchrow(
        "SELECT transport, media_encryption FROM ps_endpoints WHERE id = $1", name
    )
    assert endpoint is not None
    assert (endpoint["transport"], endpoint["media_encryption"]) == ("transport-udp", None)
