"""Numbers cannot be claimed (issue 13, item 4): an organization's admin adds DIDs and group numbers
only from ranges the platform admin gave the organization, and a number outside them is refused
with the same answer whether it is free or another organization's (no 409 that tells "taken").
The platform admin gives ranges (never overlapping another organization's, never holding another
organization's number) and assigns single numbers."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.testing import World, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.tenancy, pytest.mark.security]

BETAS = "+46870000001"  # beta-user's DID (seed_world)
FREE = "+46870000555"  # nobody's


async def _req(
    client: TestClient, method: str, path: str, who: dict[str, str], body: Any = None
) -> tuple[int, Any]:
    resp = await client.request(method, PREFIX + path, json=body, headers=who)
    return resp.status, (await resp.json() if resp.content_type == "application/json" else None)


async def test_an_admin_takes_numbers_only_from_the_organizations_ranges(
    client: TestClient, world: World
) -> None:
    alpha, beta = world.orgs["alpha"], world.orgs["beta"]
    root = bearer(await login(client, "root"))
    admin, beta_admin = bearer(await login(client, "alpha-admin")), bearer(await login(client, "beta-admin"))
    status, group = await _req(client, "POST", "/groups", admin, {"extension": "20", "name": "Support"})
    assert status == 201

    # Before any range: another organization's number and a free one get the same refusal.
    taken = await _req(client, "POST", "/numbers", admin, {"number": BETAS})
    free = await _req(client, "POST", "/numbers", admin, {"number": FREE})
    assert taken == free and taken[0] == 403, (taken, free)
    assert "number ranges" in taken[1]["error"]["message"]
    g_taken = await _req(client, "PATCH", f"/groups/{group['id']}", admin, {"number": BETAS})
    g_free = await _req(client, "PATCH", f"/groups/{group['id']}", admin, {"number": FREE})
    assert g_taken == g_free == taken

    # The platform gives alpha a range: the admin takes numbers from it, as DIDs and for groups.
    rng = {"first": "08-555 000 00", "last": "08-555 000 99"}
    status, made = await _req(client, "POST", f"/organizations/{alpha}/number-ranges", root, rng)
    assert status == 201 and (made["first_number"], made["last_number"]) == ("+46855500000", "+46855500099")
    status, did = await _req(client, "POST", "/numbers", admin, {"number": "+46855500042"})
    assert status == 201 and did["number"] == "+46855500042"
    status, body = await _req(client, "POST", "/numbers", admin, {"number": "+46855500042"})
    assert status == 409 and body["error"]["message"] == "number is already in use"  # its own
    status, body = await _req(client, "PATCH", f"/groups/{group['id']}", admin, {"number": "08-555 000 20"})
    assert status == 200 and body["number"] == "+46855500020"
    assert (
        await _req(client, "POST", "/numbers", admin, {"number": "+468555001000"}) == taken
    )  # longer: outside

    # Ranges of different organizations never overlap nor hold each other's numbers (told to the platform).
    for first, last, why in (
        ("+46855500050", "+46855500150", "overlaps another organization's range"),
        ("+46870000000", "+46870000009", "holds a number of another organization"),  # alpha's DID
    ):
        status, body = await _req(
            client, "POST", f"/organizations/{beta}/number-ranges", root, {"first": first, "last": last}
        )
        assert status == 409 and body["error"]["message"] == f"range {why}", body
    status, body = await _req(
        client, "POST", f"/organizations/{beta}/numbers", root, {"number": "+46855500077"}
    )
    assert status == 409 and body["error"]["message"] == "number is in another organization's range"
    status, _ = await _req(
        client,
        "POST",
        f"/organizations/{beta}/number-ranges",
        root,
        {"first": "+46870000010", "last": "+46870000019"},
    )
    assert status == 201
    assert (await _req(client, "POST", "/numbers", beta_admin, {"number": "+46870000015"}))[0] == 201
    assert await _req(client, "POST", "/numbers", admin, {"number": "+46870000016"}) == taken

    # The platform assigns one number straight to an organization (and to one of its users).
    status, one = await _req(
        client,
        "POST",
        f"/organizations/{alpha}/numbers",
        root,
        {"number": "+46899999999", "user_id": world.users["alpha-user"]},
    )
    assert status == 201 and one["user_id"] == world.users["alpha-user"]
    status, listed = await _req(client, "GET", f"/organizations/{alpha}/numbers", root)
    assert "+46899999999" in [n["number"] for n in listed]
    status, _ = await _req(
        client, "POST", f"/organizations/{alpha}/numbers", root, {"number": "+46899999999"}
    )
    assert status == 409
    status, _ = await _req(
        client,
        "POST",
        f"/organizations/{alpha}/numbers",
        root,
        {"number": FREE, "user_id": world.users["beta-user"]},
    )
    assert status == 404

    # A range taken back: what was taken from it stays, nothing new comes from it.
    status, ranges = await _req(client, "GET", f"/organizations/{alpha}/number-ranges", root)
    assert [r["id"] for r in ranges] == [made["id"]]
    assert (await _req(client, "DELETE", f"/organizations/{alpha}/number-ranges/{made['id']}", root))[
        0
    ] == 204
    assert (await _req(client, "DELETE", f"/organizations/{alpha}/number-ranges/{made['id']}", root))[
        0
    ] == 404
    assert await _req(client, "POST", "/numbers", admin, {"number": "+46855500043"}) == taken
    status, mine = await _req(client, "GET", "/numbers", admin)
    assert {"+46855500042", "+46855500020"} <= {n["number"] for n in mine}


@pytest.mark.parametrize(
    ("first", "last", "status"),
    [
        ("+46855500099", "+46855500000", 400),  # reversed
        ("+4685550000", "+46855500099", 400),  # not as many digits
        ("+46800000000", "+46899999999", 400),  # a hundred million numbers
        ("12345", "12399", 400),
    ],
)
async def test_bad_ranges_are_refused(
    client: TestClient, world: World, first: str, last: str, status: int
) -> None:
    root = bearer(await login(client, "root"))
    got, body = await _req(
        client,
        "POST",
        f"/organizations/{world.orgs['alpha']}/number-ranges",
        root,
        {"first": first, "last": last},
    )
    assert got == status and {"code", "message"} <= set(body["error"]), body
    assert (
        await _req(
            client,
            "POST",
            "/organizations/987654321/number-ranges",
            root,
            {"first": "+46855500000", "last": "+46855500001"},
        )
    )[0] == 404
