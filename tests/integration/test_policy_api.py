"""The call policy over HTTP (/call-policy, /users/{id}/call-policy, /users/me/call-policy) and the
one check every place that takes a destination asks: forwards, custom activities, transfers,
click-to-call and group overflow. Refusals are 400 destination_not_allowed and change nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import World, api_client, bearer, login, seed_world

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.security]
TABLES = ("call_policies", "user_call_policies", "user_settings", "custom_activities", "answer_groups")
DEFAULT = {
    "dial": ["mobile", "national"],
    "forward": ["mobile", "national"],
    "transfer": ["mobile", "national"],
    "overflow": ["mobile", "national"],
    "max_outside_calls": None,
    "max_call_seconds": None,
}
PREMIUM, ABROAD = "0900123456", "+4420794601234"


@pytest.fixture
async def env(db_pool: asyncpg.Pool) -> AsyncIterator[tuple[TestClient, World, dict[str, str]]]:
    async with api_client(db_pool) as client:
        world = await seed_world(db_pool)
        who = ("alpha-admin", "alpha-user", "alpha-operator", "beta-admin", "root")
        yield client, world, {name: await login(client, name) for name in who}


async def req(
    client: TestClient, method: str, path: str, token: str, body: Any = None, expect: int = 200
) -> Any:
    resp = await client.request(method, f"/api/v1{path}", json=body, headers=bearer(token))
    data = await resp.json() if resp.status != 204 else None
    assert resp.status == expect, data
    return data


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1")] for t in TABLES}  # noqa: S608


async def refused(client: TestClient, method: str, path: str, token: str, body: Any, why: str) -> None:
    err = (await req(client, method, path, token, body, expect=400))["error"]
    assert err["code"] == "destination_not_allowed", err
    assert why in err["message"], err


async def test_the_default_refuses_premium_and_abroad_until_an_admin_allows_them(
    env: tuple, db_pool: asyncpg.Pool
) -> None:
    client, _, tok = env
    assert await req(client, "GET", "/call-policy", tok["alpha-admin"]) == DEFAULT
    assert await req(client, "GET", "/users/me/call-policy", tok["alpha-user"]) == DEFAULT
    before = await snapshot(db_pool)
    await refused(
        client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_busy": PREMIUM}, "premium"
    )
    await refused(
        client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_all": ABROAD}, "international"
    )
    activity = {"label": "Resa", "spoken_text": "är på resa", "destination": "forward", "forward_to": ABROAD}
    await refused(client, "POST", "/users/me/activities", tok["alpha-user"], activity, "forwarded to")
    await refused(client, "POST", "/calls", tok["alpha-user"], {"to": f"tel:{ABROAD}"}, "may not be dialled")
    xfer = {"call": "1733071234.42", "to": PREMIUM}
    await refused(client, "POST", "/calls/transfer", tok["alpha-user"], xfer, "transferred to")
    await refused(client, "POST", "/calls/transfers", tok["alpha-user"], xfer, "transferred to")
    group = {"extension": "20", "name": "Support", "overflow": {"kind": "external", "number": ABROAD}}
    await refused(client, "POST", "/groups", tok["alpha-admin"], group, "overflow")
    assert await snapshot(db_pool) == before

    # The admin allows international forwards and overflow (not dialling): those pass now.
    allowed = await req(
        client,
        "PUT",
        "/call-policy",
        tok["alpha-admin"],
        {
            "forward": ["national", "mobile", "international"],
            "overflow": ["international"],
            "max_outside_calls": 3,
        },
    )
    assert allowed == {
        **DEFAULT,
        "forward": ["international", "mobile", "national"],
        "overflow": ["international"],
        "max_outside_calls": 3,
    }
    settings = await req(client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_all": ABROAD})
    assert settings["forward_all"] == ABROAD
    await req(client, "POST", "/users/me/activities", tok["alpha-user"], activity, expect=201)
    made = await req(client, "POST", "/groups", tok["alpha-admin"], group, expect=201)
    assert made["overflow"] == {"kind": "external", "number": ABROAD, "user_id": None, "group_id": None}
    # ...still refused where it was not allowed: dialling, transfers, premium forwards, and
    # overflow to a national number (overflow is international only now)
    await refused(client, "POST", "/calls", tok["alpha-user"], {"to": ABROAD}, "may not be dialled")
    await refused(client, "POST", "/calls/transfer", tok["alpha-user"], {**xfer, "to": ABROAD}, "transferred")
    await refused(
        client, "PUT", "/users/me/settings", tok["alpha-user"], {"forward_busy": PREMIUM}, "premium"
    )
    national = {"overflow": {"kind": "external", "number": "081234567"}}
    await refused(client, "PATCH", f"/groups/{made['id']}", tok["alpha-admin"], national, "national")
    # The limits come back as set, and another organization is untouched.
    assert (await req(client, "GET", "/call-policy", tok["beta-admin"])) == DEFAULT


async def test_an_admin_narrows_a_user_never_beyond_the_organization(env: tuple) -> None:
    client, world, tok = env
    user = world.users["alpha-user"]
    await req(
        client, "PUT", "/call-policy", tok["alpha-admin"], {"dial": ["national", "mobile", "international"]}
    )
    got = await req(
        client, "PUT", f"/users/{user}/call-policy", tok["alpha-admin"], {"dial": ["national", "premium"]}
    )
    # premium is not the organization's to give: the narrowing keeps it, the effective policy does not
    assert got["dial"] == ["national", "premium"] and got["forward"] is None
    assert got["effective"]["dial"] == ["national"]
    assert (await req(client, "GET", "/users/me/call-policy", tok["alpha-user"]))["dial"] == ["national"]
    await refused(
        client, "POST", "/calls", tok["alpha-user"], {"to": "0701234567"}, "mobile numbers may not be dialled"
    )
    # colleagues are not narrowed
    operator = await req(client, "GET", "/users/me/call-policy", tok["alpha-operator"])
    assert operator["dial"] == ["international", "mobile", "national"]
    # the narrowing given back (null): the organization's again
    back = await req(client, "PUT", f"/users/{user}/call-policy", tok["alpha-admin"], {"dial": None})
    assert back["dial"] is None and back["effective"]["dial"] == ["international", "mobile", "national"]
    assert (await req(client, "GET", f"/users/{user}/call-policy", tok["alpha-admin"])) == back


async def test_bad_input_is_a_400_and_changes_nothing(env: tuple, db_pool: asyncpg.Pool) -> None:
    client, world, tok = env
    before = await snapshot(db_pool)
    user = world.users["alpha-user"]
    for path, body in (
        ("/call-policy", {"dial": ["national", "satellite"]}),
        ("/call-policy", {"dial": None}),
        ("/call-policy", {"max_outside_calls": 0}),
        ("/call-policy", {"max_call_seconds": 0}),
        ("/call-policy", {"max_call_seconds": "long"}),
        ("/call-policy", {"internal": True}),
        (f"/users/{user}/call-policy", {"overflow": ["national"]}),
        (f"/users/{user}/call-policy", {"dial": "national"}),
    ):
        err = (await req(client, "PUT", path, tok["alpha-admin"], body, expect=400))["error"]
        assert {"code", "message"} <= set(err), (path, body)
    assert await snapshot(db_pool) == before


async def test_who_may_and_another_organization_is_404(env: tuple, db_pool: asyncpg.Pool) -> None:
    client, world, tok = env
    before = await snapshot(db_pool)
    for who in ("alpha-user", "alpha-operator", "root"):
        await req(client, "GET", "/call-policy", tok[who], expect=403)
        await req(client, "PUT", "/call-policy", tok[who], {"dial": ["premium"]}, expect=403)
        await req(
            client,
            "PUT",
            f"/users/{world.users['alpha-user']}/call-policy",
            tok[who],
            {"dial": []},
            expect=403,
        )
    await req(client, "GET", "/users/me/call-policy", tok["root"], expect=403)  # no organization
    beta_user = world.users["beta-user"]
    for method, body in (("GET", None), ("PUT", {"dial": ["premium"]})):
        err = await req(
            client, method, f"/users/{beta_user}/call-policy", tok["alpha-admin"], body, expect=404
        )
        assert err["error"]["code"] == "not_found"
    await req(client, "GET", "/users/987654321/call-policy", tok["alpha-admin"], expect=404)
    assert await snapshot(db_pool) == before
