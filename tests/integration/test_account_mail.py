"""Welcome and reset mails through a real SMTP server (aiosmtpd): the welcome mail of a new user
arrives in their language with their username, a single-use link and how to get the app (never a
password); the link sets the password once and login works with it; a reset request answers the
same for known and unknown logins, is throttled, and its link expires; a mail address that is not
one is a 400 and nothing is made."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from pbx_control.api.app import PREFIX
from pbx_control.config import Settings
from pbx_control.mail.sender import MailSender, Relay
from pbx_control.testing import SIP_TEST, World, api_client, bearer, login
from tests.support.clock import FixedClock
from tests.support.smtp import SmtpServer, text_of

pytestmark = [pytest.mark.integration, pytest.mark.tenancy, pytest.mark.mail]

APP = "https://pbx.example.test"
LINK = re.compile(re.escape(APP) + r"/#set-password=([A-Za-z0-9_-]{43})\r?$", re.M)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
async def client(db_pool: asyncpg.Pool, world: World, clock: FixedClock) -> AsyncIterator[TestClient]:
    settings = Settings(sip_domain=SIP_TEST.domain, sip_port=SIP_TEST.port, public_url=APP + "/")
    async with api_client(db_pool, settings=settings, clock=clock) as c:
        yield c


async def _deliver(db_pool: asyncpg.Pool, smtp: SmtpServer) -> list[Any]:
    """Hand the outbox to the SMTP server (the sender worker's one round); the new messages."""
    before = len(smtp.inbox.messages)
    await MailSender(db_pool, Relay("127.0.0.1", smtp.port, sender="pbx@example.test")).run_once()
    return smtp.inbox.messages[before:]


async def _post(client: TestClient, path: str, body: dict[str, Any], headers: Any = None) -> tuple[int, Any]:
    resp = await client.post(PREFIX + path, json=body, headers=headers)
    return resp.status, await resp.json() if resp.content_type == "application/json" else None


async def test_welcome_mail_link_sets_the_password_once(
    client: TestClient, db_pool: asyncpg.Pool, smtp: SmtpServer
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    new = {
        "extension": "1010",
        "name": "Eva Ek",
        "username": "eva",
        "email": "eva@example.com",
        "language": "en",
    }
    status, user = await _post(client, "/users", new, admin)
    assert status == 201, user
    (msg,) = await _deliver(db_pool, smtp)
    text = text_of(msg)
    assert msg["X-Envelope-To"] == "eva@example.com" and msg["Subject"] == "Welcome to Alpha's phone system"
    assert "Your username: eva" in text and f"Open {APP}/ in the web browser" in text
    assert "Add to Home Screen" in text and "Sign in with your username" in text
    (token,) = LINK.findall(text)
    # nobody signs in before the password is set
    assert (await _post(client, "/auth/login", {"username": "eva", "password": "!"}))[0] == 401
    status, body = await _post(client, "/auth/set-password", {"token": token, "password": "short"})
    assert status == 400 and body["error"]["code"] == "invalid"  # the link still works after that
    status, body = await _post(client, "/auth/set-password", {"token": token, "password": "eva's own secret"})
    assert (status, body) == (200, {"username": "eva"})
    assert "eva's own secret" not in text
    status, body = await _post(client, "/auth/set-password", {"token": token, "password": "another secret"})
    assert status == 410 and body["error"]["code"] == "link_used"
    assert (await login(client, "eva", "eva's own secret")) != ""
    assert (await _post(client, "/auth/login", {"username": "eva", "password": "another secret"}))[0] == 401
    status, body = await _post(
        client, "/auth/set-password", {"token": "x" * 43, "password": "a good password"}
    )
    assert status == 400 and body["error"]["code"] == "link_invalid"

    # in Swedish for a Swedish user; an admin sends it again with a new link
    sv = {**new, "extension": "1011", "username": "olle", "email": "olle@example.com", "language": "sv"}
    assert (await _post(client, "/users", sv, admin))[0] == 201
    assert (await _post(client, f"/users/{user['id']}/welcome-mail", {}, admin))[0] == 202
    first, again = await _deliver(db_pool, smtp)
    assert first["Subject"] == "Välkommen till telefonin hos Alpha"
    assert "Ditt användarnamn: olle" in text_of(first) and "Lägg till på hemskärmen" in text_of(first)
    assert LINK.findall(text_of(again)) != [token]


async def test_a_mail_address_that_is_not_one_is_refused(
    client: TestClient, db_pool: asyncpg.Pool, world: World
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    base = {"extension": "1012", "name": "Bad", "username": "bad"}
    for email in ("nope", "a@b", "a b@example.com", "a@example.com\r\nBcc: x@example.com", "a@@example.com"):
        status, body = await _post(client, "/users", {**base, "email": email}, admin)
        assert status == 400 and "email" in body["error"]["message"], (email, body)
    status, body = await _post(client, "/users", base, admin)  # neither a password nor an address
    assert status == 400 and "password is required" in body["error"]["message"]
    assert await db_pool.fetchval("SELECT count(*) FROM users WHERE username = 'bad'") == 0
    assert await db_pool.fetchval("SELECT count(*) FROM mails") == 0
    status, body = await _post(client, f"/users/{world.users['alpha-user']}/welcome-mail", {}, admin)
    assert status == 400 and "no mail address" in body["error"]["message"]


async def test_reset_mail_tells_nothing_is_throttled_and_expires(
    client: TestClient, db_pool: asyncpg.Pool, world: World, smtp: SmtpServer, clock: FixedClock
) -> None:
    admin = bearer(await login(client, "alpha-admin"))
    uid = world.users["alpha-user"]
    resp = await client.patch(f"{PREFIX}/users/{uid}", json={"email": "Anna@Example.com"}, headers=admin)
    assert resp.status == 200
    session = bearer(await login(client, "alpha-user"))
    answers = [
        await _post(client, "/auth/password-reset", {"login": who})
        for who in ("alpha-user", "anna@example.com", "nobody", "nobody@example.com")
    ]
    assert all(a == answers[0] for a in answers) and answers[0][0] == 202, answers
    by_name, by_address = await _deliver(db_pool, smtp)  # the unknown ones got nothing
    assert by_name["X-Envelope-To"] == by_address["X-Envelope-To"] == "Anna@Example.com"
    assert by_name["Subject"] == "Välj ett nytt lösenord" and "användarnamnet alpha-user" in text_of(by_name)
    (old,), (token,) = LINK.findall(text_of(by_name)), LINK.findall(text_of(by_address))
    status, _ = await _post(client, "/auth/set-password", {"token": token, "password": "a new password"})
    assert status == 200
    assert (await client.get(f"{PREFIX}/users/me", headers=session)).status == 401  # signed out
    status, body = await _post(client, "/auth/set-password", {"token": old, "password": "a third password"})
    assert status == 400 and body["error"]["code"] == "link_invalid"  # setting it revoked the others
    await login(client, "alpha-user", "a new password")

    # a link an hour old no longer works
    assert (await _post(client, "/auth/password-reset", {"login": "alpha-user"}))[0] == 202
    (late,) = await _deliver(db_pool, smtp)
    clock.advance(timedelta(hours=1))
    status, body = await _post(
        client, "/auth/set-password", {"token": LINK.findall(text_of(late))[0], "password": "x" * 9}
    )
    assert status == 410 and body["error"]["code"] == "link_expired"

    # throttled per login, known or not, with the same answer
    clock.advance(timedelta(hours=1))
    for who in ("alpha-user", "nobody"):
        statuses = [(await _post(client, "/auth/password-reset", {"login": who}))[0] for _ in range(4)]
        assert statuses == [202, 202, 202, 429], (who, statuses)
    assert len(await _deliver(db_pool, smtp)) == 3


async def test_a_new_organizations_admin_gets_the_welcome_mail_and_a_new_password_ends_the_links(
    client: TestClient, db_pool: asyncpg.Pool, world: World, smtp: SmtpServer
) -> None:
    root = bearer(await login(client, "root"))
    first_admin = {
        "extension": "1000",
        "name": "Gun",
        "username": "gun",
        "email": "gun@example.com",
        "language": "en",
    }
    status, org = await _post(
        client, "/organizations", {"slug": "gamma", "name": "Gamma", "admin": first_admin}, root
    )
    assert status == 201, org
    (msg,) = await _deliver(db_pool, smtp)
    assert msg["Subject"] == "Welcome to Gamma's phone system" and "Your username: gun" in text_of(msg)
    (token,) = LINK.findall(text_of(msg))
    # the admin changes the password another way: the link no longer works
    resp = await client.patch(
        f"{PREFIX}/users/{org['admin']['id']}", json={"password": "set by someone"}, headers=root
    )
    assert resp.status == 403  # a platform admin manages organizations, not their users
    second = {**first_admin, "extension": "1001", "username": "gun2", "email": None, "password": "x" * 12}
    assert (await _post(client, f"/organizations/{org['id']}/admins", second, root))[0] == 201
    other = bearer(await login(client, "gun2", "x" * 12))
    resp = await client.patch(
        f"{PREFIX}/users/{org['admin']['id']}", json={"password": "set by gun2"}, headers=other
    )
    assert resp.status == 200
    status, body = await _post(client, "/auth/set-password", {"token": token, "password": "too late now"})
    assert status == 400 and body["error"]["code"] == "link_invalid"
