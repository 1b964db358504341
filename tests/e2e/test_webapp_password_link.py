"""The welcome mail's link in the browser: it opens the app's set-password screen, the password set
there signs the user in, and the same link a second time says it was used (Chromium, real stack;
the mail is read from the outbox, which has no relay in the e2e stack)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import pytest

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import PHONE, Browsers, app_url
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.webapp, pytest.mark.tenancy]


def _welcome_mail(e2e: E2E, to: str) -> str:
    async def read() -> str:
        conn = await asyncpg.connect(e2e.stack.database_url)
        try:
            text: str = await conn.fetchval("SELECT body_text FROM mails WHERE to_address = $1", to)
            return text
        finally:
            await conn.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        return pool.submit(asyncio.run, read()).result()


def test_the_welcome_link_sets_the_password_and_signs_in_once(
    e2e: E2E, platform: Api, browsers: Browsers
) -> None:
    org = new_org(platform)
    new = {
        "extension": "1005",
        "name": "Eva Ek",
        "username": f"eva@{org.slug}",
        "email": f"eva@{org.slug}.example",
    }
    org.admin.post("/users", new, expect=201)
    (link,) = re.findall(r"^(http\S+#set-password=\S+)$", _welcome_mail(e2e, new["email"]), re.M)
    assert link.startswith(app_url(e2e))

    tab = browsers.open(link, viewport=PHONE, locale="sv-SE")
    page = tab.page
    page.get_by_role("heading", name="Välj ditt lösenord").wait_for()
    page.get_by_label("Nytt lösenord").fill("evas eget lösenord")
    page.get_by_label("Upprepa lösenordet").fill("evas eget lösenord")
    page.get_by_role("button", name="Spara och logga in").click()
    page.get_by_test_id("me-name").get_by_text("Eva Ek").wait_for()
    assert "#set-password" not in page.url
    tab.screenshot("set-password-done-360-sv")
    Api(e2e.control.api).login(new["username"], "evas eget lösenord")

    again = browsers.open(link, locale="en-GB")
    again.page.get_by_label("New password").fill("another password")
    again.page.get_by_label("Repeat the password").fill("another password")
    again.page.get_by_role("button", name="Save and sign in").click()
    again.page.get_by_test_id("set-password-error").get_by_text("This link has already been used.").wait_for()
    again.screenshot("set-password-used-desktop-en")
    assert tab.errors == []
    assert [e for e in again.errors if "410" not in e] == []  # the refused POST shows as a resource error
