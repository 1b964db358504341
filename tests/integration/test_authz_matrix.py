"""Counted proof (issue 13): the authorization matrix, generated from the operation list.

Every operation is tried by every role of organization alpha (user, operator, admin) and by the
platform admin, with ids that belong to organization beta. Each operation needs an entry here: one
that takes an id in its path gets beta's id for every parameter (PATH_IDS); one without names what
it is (NO_PATH: "read", "own", or a body naming beta's ids). A route added later without an entry
fails test_every_operation_has_a_matrix_entry, so the gap shows.

Expected: 403 where the role is not allowed, 404 (not_found) where it is, never 2xx and never 5xx;
every 4xx has {"error": {"code", "message"}}; no row in any table changes; a read of the own
organization never mentions beta. The tests print their counts (cases tried, findings).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.ami import CallModel
from pbx_control.ami.client import AmiClient
from pbx_control.api.app import PREFIX
from pbx_control.api.context import POOL
from pbx_control.config import Settings
from pbx_control.dialplan.sync import Dialplan
from pbx_control.feature import Runtime
from pbx_control.service import api_app, operations
from pbx_control.tenancy.http_organizations import ORGANIZATIONS_CHANGED
from pbx_control.testing import SIP_TEST, World, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.security]

Ids = dict[str, int]
Body = Callable[[Ids], dict[str, Any]] | None
ROLES = {"alpha-user": "user", "alpha-operator": "operator", "alpha-admin": "admin", "root": "platform"}
MISSING = 987654321  # kept in memory (transfers) or made by calls only (history): no such id anywhere

# Operations with ids in their path: the body each is tried with (None: no body).
PATH_IDS: dict[tuple[str, str], Body] = {
    ("GET", "/users/{user_id}"): None,
    ("PATCH", "/users/{user_id}"): lambda i: {"name": "hijacked"},
    ("DELETE", "/users/{user_id}"): None,
    ("GET", "/users/{user_id}/devices"): None,
    ("POST", "/users/{user_id}/devices"): lambda i: {"kind": "desk"},
    ("PATCH", "/devices/{device_id}"): lambda i: {"label": "hijacked"},
    ("DELETE", "/devices/{device_id}"): None,
    ("POST", "/devices/{device_id}/reset-password"): lambda i: {},
    ("POST", "/users/me/devices/{device_id}/password"): None,  # another's device: 404, as if missing
    ("POST", "/users/{user_id}/welcome-mail"): None,
    ("PATCH", "/numbers/{number_id}"): lambda i: {"user_id": i["alpha_user"]},
    ("DELETE", "/numbers/{number_id}"): None,
    ("GET", "/organizations/{org_id}"): None,
    ("PATCH", "/organizations/{org_id}"): lambda i: {"name": "hijacked"},
    ("DELETE", "/organizations/{org_id}"): None,
    ("POST", "/organizations/{org_id}/admins"): lambda i: {
        "extension": "1999",
        "name": "Intruder",
        "username": "intruder",
        "password": "long enough password",
    },
    ("DELETE", "/trunks/{trunk_id}"): None,
    ("GET", "/organizations/{org_id}/numbers"): None,
    ("POST", "/organizations/{org_id}/numbers"): lambda i: {"number": "+46855555556"},
    ("GET", "/organizations/{org_id}/number-ranges"): None,
    ("POST", "/organizations/{org_id}/number-ranges"): lambda i: {
        "first": "+46855555500",
        "last": "+46855555599",
    },
    ("DELETE", "/organizations/{org_id}/number-ranges/{range_id}"): None,
    ("GET", "/users/me/activities/{activity_id}"): None,
    ("PATCH", "/users/me/activities/{activity_id}"): lambda i: {"label": "hijacked"},
    ("DELETE", "/users/me/activities/{activity_id}"): None,
    ("DELETE", "/users/me/caller-lists/{entry_id}"): None,
    ("GET", "/meetings/{meeting_id}"): None,
    ("PATCH", "/meetings/{meeting_id}"): lambda i: {"name": "hijacked"},
    ("DELETE", "/meetings/{meeting_id}"): None,
    ("GET", "/meetings/{meeting_id}/invitation.ics"): None,
    ("GET", "/meetings/{meeting_id}/participants"): None,
    ("POST", "/meetings/{meeting_id}/join"): lambda i: {},
    ("POST", "/meetings/{meeting_id}/lock"): lambda i: {"locked": True},
    ("POST", "/meetings/{meeting_id}/mute-all"): lambda i: {"muted": True},
    ("POST", "/meetings/{meeting_id}/participants/{participant_id}/mute"): lambda i: {"muted": True},
    ("DELETE", "/meetings/{meeting_id}/participants/{participant_id}"): None,
    ("POST", "/conferences/{conference_id}/participants"): lambda i: {"to": "1001"},
    ("GET", "/conferences/{conference_id}/participants"): None,
    ("POST", "/conferences/{conference_id}/participants/{participant_id}/mute"): lambda i: {"muted": True},
    ("DELETE", "/conferences/{conference_id}/participants/{participant_id}"): None,
    ("GET", "/contacts/{contact_id}"): None,
    ("PATCH", "/contacts/{contact_id}"): lambda i: {"name": "hijacked"},
    ("DELETE", "/contacts/{contact_id}"): None,
    ("PUT", "/contacts/{contact_id}/marks"): lambda i: {"favorite": True},
    ("PUT", "/users/me/favorites/users/{user_id}"): None,
    ("DELETE", "/users/me/favorites/users/{user_id}"): None,
    ("PUT", "/users/me/favorites/groups/{group_id}"): None,
    ("DELETE", "/users/me/favorites/groups/{group_id}"): None,
    ("GET", "/groups/{group_id}"): None,
    ("PATCH", "/groups/{group_id}"): lambda i: {"name": "hijacked"},
    ("DELETE", "/groups/{group_id}"): None,
    ("POST", "/groups/{group_id}/login"): lambda i: {},
    ("POST", "/groups/{group_id}/logout"): lambda i: {},
    ("POST", "/groups/{group_id}/pause"): lambda i: {"paused": True},
    ("POST", "/groups/{group_id}/night"): lambda i: {"on": True},
    ("GET", "/calls/transfers/{transfer_id}"): None,
    ("POST", "/calls/transfers/{transfer_id}/complete"): lambda i: {},
    ("POST", "/calls/transfers/{transfer_id}/cancel"): lambda i: {},
    ("POST", "/users/me/history/{history_id}/seen"): lambda i: {},
    ("GET", "/users/{user_id}/call-policy"): None,
    ("PUT", "/users/{user_id}/call-policy"): lambda i: {"dial": ["national", "premium"]},
    ("GET", "/users/me/voicemail/messages/{message_id}"): None,
    ("GET", "/users/me/voicemail/messages/{message_id}/audio"): None,
    ("PUT", "/users/me/voicemail/messages/{message_id}"): lambda i: {"played": True},
    ("DELETE", "/users/me/voicemail/messages/{message_id}"): None,
    ("GET", "/users/{user_id}/voicemail/limits"): None,
    ("PUT", "/users/{user_id}/voicemail/limits"): lambda i: {"max_messages": 1},
}

# Operations without ids in their path. "read": a GET whose answer must not mention beta;
# "own": acts on the caller's own data or the caller's own organization only, and names no other
# row; a body: tried with beta's ids in it, must be refused (4xx) and change nothing.
NO_PATH: dict[tuple[str, str], str | Body] = {
    ("POST", "/auth/login"): "own",
    ("POST", "/auth/logout"): "own",
    ("POST", "/auth/logout-all"): "own",
    ("POST", "/auth/password-reset"): "own",  # public: the same 202 for every login (test_account_mail.py)
    ("POST", "/auth/set-password"): "own",  # public: the link's token names the user
    ("GET", "/users/me"): "read",
    ("POST", "/users/me/password"): "own",
    ("GET", "/users"): "read",
    ("POST", "/users"): "own",
    ("GET", "/numbers"): "read",
    ("POST", "/numbers"): lambda i: {"number": "+46855555555", "user_id": i["user_id"]},
    ("GET", "/organizations"): "own",  # platform only: lists every organization by design
    ("POST", "/organizations"): "own",
    ("GET", "/trunks"): "own",
    ("POST", "/trunks"): "own",
    ("GET", "/users/me/activity"): "read",
    ("PUT", "/users/me/activity"): lambda i: {"activity": "custom", "custom_activity_id": i["activity_id"]},
    ("GET", "/users/me/activities"): "read",
    ("POST", "/users/me/activities"): "own",
    ("GET", "/users/me/settings"): "read",
    ("PUT", "/users/me/settings"): "own",
    ("GET", "/users/me/caller-lists"): "read",
    ("POST", "/users/me/caller-lists"): "own",
    ("GET", "/phonebook"): "read",
    ("POST", "/phonebook"): "own",
    ("POST", "/phonebook/import"): "own",
    ("GET", "/users/me/contacts"): "read",
    ("POST", "/users/me/contacts"): "own",
    ("POST", "/users/me/contacts/import"): "own",
    ("GET", "/directory"): "read",
    ("GET", "/presence"): "read",
    ("GET", "/groups"): "read",
    ("POST", "/groups"): lambda i: {
        "extension": "2999",
        "name": "Crossing",
        "members": [{"user_id": i["user_id"]}],
    },
    ("GET", "/calls"): "read",
    ("POST", "/calls/hangup"): "own",  # a channel of the caller's own calls (live model)
    ("POST", "/calls/transfer"): "own",
    ("POST", "/calls/park"): "own",
    ("GET", "/calls/parked"): "own",  # asks Asterisk (AMI) for its own organization's parking lot
    ("GET", "/calls/queued"): "own",  # asks Asterisk (AMI QueueStatus), keeps its own organization's groups
    ("POST", "/calls/transfers"): "own",
    ("POST", "/calls/hold"): "own",
    ("POST", "/calls/resume"): "own",
    ("POST", "/calls/swap"): "own",
    ("POST", "/calls/dtmf"): "own",
    ("POST", "/calls"): "own",
    ("POST", "/calls/parked/retrieve"): "own",
    ("POST", "/calls/move"): lambda i: {"call": "1733071234.42", "device": i["device_id"]},
    ("GET", "/users/me/history"): "read",
    ("POST", "/users/me/history/seen"): "own",
    ("GET", "/history"): "read",
    ("POST", "/events/tickets"): "own",  # a single-use ticket for the caller's own socket
    ("GET", "/events"): "own",  # WebSocket; tests/integration/test_api_events_visibility.py
    ("GET", "/users/me/devices"): "read",  # my own phones' setup, never a password
    ("GET", "/users/me/webphone"): "own",  # the caller's own web device (404 until made)
    ("POST", "/users/me/webphone"): "own",
    ("GET", "/meetings"): "read",
    ("POST", "/meetings"): "own",
    ("PUT", "/meetings/dial-in"): "own",  # the caller's own organization's dial-in number
    ("GET", "/call-policy"): "read",
    ("PUT", "/call-policy"): "own",  # the caller's own organization's policy
    ("GET", "/users/me/call-policy"): "read",
    ("POST", "/conferences"): "own",  # the caller's own call or device, their organization's people
    ("GET", "/conference-settings"): "read",
    ("PUT", "/conference-settings"): "own",  # the caller's own organization's limit
    ("GET", "/users/me/voicemail"): "read",  # the caller's own box
    ("GET", "/users/me/voicemail/settings"): "read",
    ("PUT", "/users/me/voicemail/settings"): "own",
    ("PUT", "/users/me/voicemail/greeting"): "own",
    ("DELETE", "/users/me/voicemail/greeting"): "own",
    ("GET", "/health"): "own",
    ("GET", "/openapi.json"): "own",
}


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World) -> AsyncIterator[TestClient]:
    """The composed app with a live call model and an AMI client that never connects, so the
    call-control routes answer (their ownership checks come before any AMI action)."""
    settings = Settings(sip_domain=SIP_TEST.domain, sip_port=SIP_TEST.port)
    dialplan = Dialplan(db_pool, Path("/nonexistent/pbx-control-test"))
    rt = Runtime(settings, db_pool, dialplan, ami=AmiClient(settings), calls=CallModel())
    app = api_app(rt)
    app[ORGANIZATIONS_CHANGED] = None
    async with TestClient(TestServer(app)) as c:
        yield c


async def _beta_ids(client: TestClient, world: World) -> Ids:
    """Ids of rows that belong to beta (made through the API as beta's users)."""
    admin = bearer(await login(client, "beta-admin"))
    user = bearer(await login(client, "beta-user"))

    async def make(path: str, body: dict[str, Any], h: dict[str, str]) -> int:
        resp = await client.post(PREFIX + path, json=body, headers=h)
        assert resp.status == 201, (path, await resp.text())
        made: int = (await resp.json())["id"]
        return made

    return {
        "user_id": world.users["beta-user"],
        "device_id": world.devices["beta-user"],
        "number_id": world.numbers["beta-user"],
        "org_id": world.orgs["beta"],
        "group_id": await make("/groups", {"extension": "2000", "name": "Beta sales"}, admin),
        "activity_id": await make(
            "/users/me/activities", {"label": "Course", "spoken_text": "is on a course"}, user
        ),
        "contact_id": await make("/users/me/contacts", {"name": "Beta contact"}, user),
        "entry_id": await make("/users/me/caller-lists", {"number": "+46701234567", "kind": "vip"}, user),
        "meeting_id": await make("/meetings", {"name": "Beta standup"}, user),
        "conference_id": await _conference(client, user),
        "participant_id": MISSING,  # participants live only in the room (AMI)
        "trunk_id": MISSING,
        "range_id": MISSING,
        "transfer_id": MISSING,
        "history_id": MISSING,
        "message_id": await client.app[POOL].fetchval(  # messages are left by calls only
            "INSERT INTO voicemail_messages (organization_id, user_id, msg_id, folder, caller_number,"
            " received_at, duration_s) VALUES ($1, $2, '1796000000-00000001', 'INBOX', '1002', now(), 5)"
            " RETURNING id",
            world.orgs["beta"],
            world.users["beta-user"],
        ),
        "alpha_user": world.users["alpha-user"],
    }


async def _conference(client: TestClient, user: dict[str, str]) -> int:
    """Beta's multi-party call (its ring fails at once: this AMI client never connects)."""
    resp = await client.post(PREFIX + "/conferences", json={"participants": ["1000"]}, headers=user)
    assert resp.status == 202, await resp.text()
    made: int = (await resp.json())["id"]
    return made


async def _all_rows(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but the token and login bookkeeping (logins write there)."""
    async with pool.acquire() as conn:
        names = [
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if not re.search("token|login|migration", r["tablename"])
        ]
        return {
            t: sorted((dict(r) for r in await conn.fetch(f'SELECT * FROM "{t}"')), key=repr)  # noqa: S608
            for t in sorted(names)
        }


def test_every_operation_has_a_matrix_entry() -> None:
    ops = {(o.method, o.path): o for o in operations()}
    with_ids = {k for k, o in ops.items() if o.params}
    missing = sorted((with_ids - PATH_IDS.keys()) | ((ops.keys() - with_ids) - NO_PATH.keys()))
    stale = sorted((PATH_IDS.keys() | NO_PATH.keys()) - ops.keys())
    print(f"authz matrix: {len(ops)} operations, {len(missing)} without an entry, {len(stale)} stale")
    assert not missing, f"add these operations to the matrix in {__file__}: {missing}"
    assert not stale, f"these matrix entries name no operation: {stale}"


async def test_nobody_reaches_another_organization(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    ids = await _beta_ids(client, world)
    tokens = {who: bearer(await login(client, who)) for who in ROLES}
    before = await _all_rows(db_pool)
    tried, findings = 0, []
    for op in operations():
        key = (op.method, op.path)
        entry: str | Body = PATH_IDS[key] if op.params else NO_PATH[key]
        if isinstance(entry, str) or op.roles is None:
            continue
        path = PREFIX + re.sub(r"\{([a-z_]+)\}", lambda m: str(ids[m.group(1)]), op.path)
        for who, role in ROLES.items():
            if role == "platform" and role in op.roles:
                continue  # the platform admin manages every organization by design
            body = entry(ids) if entry is not None else None
            resp = await client.request(op.method, path, json=body, headers=tokens[who])
            tried += 1
            want = 404 if role in op.roles else 403
            if not op.params and role in op.roles:
                want = 0  # a body naming beta's ids: any 4xx but 401 (400, 404 or 409 say the same)
            text = await resp.text()
            error = (await resp.json()).get("error", {}) if resp.content_type == "application/json" else {}
            ok = (
                resp.status == want or (want == 0 and 400 <= resp.status < 500 and resp.status != 401)
            ) and {
                "code",
                "message",
            } <= set(error)
            if not ok:
                findings.append((who, op.method, path, resp.status, text[:200]))
    changed = [t for t, rows in (await _all_rows(db_pool)).items() if rows != before.get(t)]
    print(
        f"authz matrix: {tried} cross-organization requests, {len(findings)} findings,"
        f" {len(changed)} tables changed"
    )
    for f in findings:
        print("finding:", f)
    assert not findings, findings
    assert not changed, changed


async def test_reads_never_show_the_other_organization(client: TestClient, world: World) -> None:
    await _beta_ids(client, world)  # beta has a group, a custom activity, a contact, a VIP entry
    tried, findings = 0, []
    for op in operations():
        if op.params or NO_PATH.get((op.method, op.path)) != "read" or op.roles is None:
            continue
        for who, role in ROLES.items():
            if role not in op.roles:
                continue
            resp = await client.get(PREFIX + op.path, headers=bearer(await login(client, who)))
            tried += 1
            text = (await resp.text()).lower()
            if resp.status != 200 or "beta" in text or "+46870000001" in text:
                findings.append((who, op.path, resp.status, text[:200]))
    print(f"authz matrix: {tried} reads of the own organization, {len(findings)} showed beta")
    assert tried > 0
    assert not findings, findings
