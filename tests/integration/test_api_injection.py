"""Counted proof (issue 13): an injection corpus through the API (the SIPp half is not here yet).

Names, notes, spoken texts and numbers get newlines, quotes, & | ; ${...}, AGI/AMI look-alikes,
SQL, very long strings; bodies get invalid UTF-8. Each answer is either a success that stores the
text as sent (contact names: on one line; read back through the API) or a 4xx with the JSON
error body; never a 5xx; organization beta never changes. The test prints cases tried and
findings and fails on any.
"""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.testing import World, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.security]

CORPUS = [
    "a\nb",
    "a\r\nAction: Originate\r\nChannel: PJSIP/x",
    "x\n200 result=1",
    "\"quoted\" 'single'",
    "a & b | c ; d",
    "${SHELL(id)}",
    "$(id) `id`",
    "Robert'); DROP TABLE users;--",
    "%s %n %x",
    "\x00nul",
    "\t\x1b[31mred",
    "emoji 📞 åäö",
    "a" * 10_000,
    "1001,1002&PJSIP/x",
    "+46 70-123 45 67\n",
]
NUMBERS = ["+46701234567;x", "070\n1234567", "1001&1002", "${EXTEN}", "+4670123456789012345", "*99#"]


async def _beta_rows(pool: asyncpg.Pool, org: int) -> list[Any]:
    return [
        dict(r)
        for r in await pool.fetch(
            "SELECT id, name, username, extension FROM users WHERE organization_id = $1 ORDER BY id", org
        )
    ]


def _error_ok(status: int, text: str) -> bool:
    if status >= 500:
        return False
    try:
        error = json.loads(text)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"code", "message"} <= set(error)


async def test_injection_corpus_through_the_api(
    client: TestClient, world: World, db_pool: asyncpg.Pool
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    user = bearer(await login(client, "alpha-user"))
    beta_before = await _beta_rows(db_pool, world.orgs["beta"])
    findings: list[tuple[object, ...]]  # the request, then what was wrong
    tried, stored, refused, findings = 0, 0, 0, []

    async def attempt(
        method: str, path: str, body: Any, h: dict[str, str], read: tuple[str, str] | None
    ) -> None:
        nonlocal tried, stored, refused
        resp = await client.request(method, PREFIX + path, json=body, headers=h)
        text = await resp.text()
        tried += 1
        if 200 <= resp.status < 300:
            stored += 1
            if read is not None:
                field, sent = read
                back = json.loads(text)
                if back.get(field) != sent:
                    findings.append(
                        (path, field, "stored altered", repr(sent)[:80], repr(back.get(field))[:80])
                    )
        elif _error_ok(resp.status, text):
            refused += 1
        else:
            findings.append((method, path, resp.status, repr(body)[:80], text[:200]))

    alpha_user = world.users["alpha-user"]
    for s in CORPUS:
        await attempt("PATCH", f"/users/{alpha_user}", {"name": s}, admin, ("name", s))
        # A contact's name is kept on one line by design (directory/drafts.py).
        await attempt(
            "POST",
            "/users/me/contacts",
            {"name": s, "note": s, "company": s},
            user,
            ("name", " ".join(s.split())),
        )
        await attempt("POST", "/users/me/activities", {"label": s, "spoken_text": s}, user, ("label", s))
        await attempt("PUT", "/users/me/activity", {"activity": "busy", "note": s}, user, None)
        await attempt("POST", "/groups", {"extension": "2100", "name": s}, admin, None)
        await attempt(
            "POST", "/users", {"extension": s[:20], "name": s, "username": s, "password": s}, admin, None
        )
    for n in NUMBERS + CORPUS:
        await attempt("POST", "/users/me/caller-lists", {"number": n, "kind": "blocked"}, user, None)
        await attempt("POST", "/numbers", {"number": n, "user_id": alpha_user}, admin, None)
    for raw in (b'{"name": "\xff\xfe"}', b'{"name": "a\xc3"}', b"\xed\xa0\x80", b'{"name": "\\ud800"}'):
        resp = await client.patch(
            f"{PREFIX}/users/{alpha_user}", data=raw, headers={**admin, "Content-Type": "application/json"}
        )
        tried += 1
        text = await resp.text()
        if resp.status >= 300 and _error_ok(resp.status, text):
            refused += 1
        else:
            findings.append(("invalid utf-8", raw, resp.status, text[:200]))
    beta_changed = await _beta_rows(db_pool, world.orgs["beta"]) != beta_before
    print(
        f"api injection: {tried} cases, {stored} stored verbatim, {refused} refused with 4xx,"
        f" {len(findings)} findings, other organization changed: {beta_changed}"
    )
    for f in findings:
        print("finding:", f)
    assert not findings, findings
    assert not beta_changed
