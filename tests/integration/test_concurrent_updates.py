"""No lost updates: two requests at once that change different fields of the same row (custom
settings, a contact, a custom activity) both take effect, round after round."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from pbx_control.testing import bearer, login
from tests.support.directory import call

pytestmark = [pytest.mark.integration, pytest.mark.faults]

ROUNDS = 30


async def _race(
    client: TestClient,
    headers: dict[str, str],
    method: str,
    path: str,
    bodies: list[tuple[dict[str, Any], dict[str, Any]]],
) -> int:
    """Send each round's two bodies at once, then read the row back; the rounds where either change
    is missing (printed and returned)."""
    lost = 0
    for first, second in bodies:
        (s1, r1), (s2, r2) = await asyncio.gather(
            call(client, method, path, headers, first), call(client, method, path, headers, second)
        )
        assert (s1, s2) == (200, 200), (r1, r2)
        _, now = await call(client, "GET", path, headers)
        if any(now[k] != v for k, v in {**first, **second}.items()):
            lost += 1
    print(f"\n{method} {path}: {ROUNDS} rounds of two concurrent changes, {lost} lost")
    return lost


@pytest.mark.reachability
async def test_two_settings_changed_at_once_both_stay(client: TestClient) -> None:
    h = bearer(await login(client, "alpha-user"))
    bodies = [({"forward_no_answer_seconds": 5 + i}, {"closed": i % 2 == 0}) for i in range(ROUNDS)]
    assert await _race(client, h, "PUT", "/users/me/settings", bodies) == 0


@pytest.mark.reachability
async def test_two_changes_of_a_custom_activity_at_once_both_stay(client: TestClient) -> None:
    h = bearer(await login(client, "alpha-user"))
    status, created = await call(
        client, "POST", "/users/me/activities", h, {"label": "Kundbesök", "spoken_text": "är på kundbesök"}
    )
    assert status == 201, created
    path = f"/users/me/activities/{created['id']}"
    bodies = [({"label": f"Kundbesök {i}"}, {"default_minutes": 10 + i}) for i in range(ROUNDS)]
    assert await _race(client, h, "PATCH", path, bodies) == 0


@pytest.mark.directory
async def test_two_changes_of_a_contact_at_once_both_stay(client: TestClient) -> None:
    h = bearer(await login(client, "alpha-user"))
    status, created = await call(
        client, "POST", "/users/me/contacts", h, {"name": "Berit Lund", "numbers": [{"number": "0701234567"}]}
    )
    assert status == 201, created
    path = f"/contacts/{created['id']}"
    bodies = [({"company": f"Lunds Bageri {i}"}, {"note": f"Ring före {i}"}) for i in range(ROUNDS)]
    assert await _race(client, h, "PATCH", path, bodies) == 0
