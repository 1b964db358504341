"""Debian's chromium driven by Playwright for Python, for the web app tests: headless, fake media, no
background traffic, and every console error and page error collected so a test can assert there were none.
Screenshots go to tests/artifacts/webapp/ (gitignored), whose path the tests print."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect, sync_playwright

from tests.e2e.conftest import E2E
from tests.support.provision import PASSWORD, User

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--allow-loopback-in-peer-connection",  # Asterisk on 127.0.0.1: loopback ICE candidates
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "webapp"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 360, "height": 740}


@dataclass
class Tab:
    page: Page
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
        return path


class Browsers:
    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.contexts: list[BrowserContext] = []

    def open(
        self,
        url: str,
        *,
        viewport: ViewportSize = DESKTOP,
        locale: str = "sv-SE",
        permissions: tuple[str, ...] = (),
    ) -> Tab:
        """A new browser context (its own storage: another person) on url."""
        extra = {"permissions": list(permissions)} if permissions else {}  # [] would take the microphone away
        context = self.browser.new_context(viewport=viewport, locale=locale, **extra)  # type: ignore[arg-type]
        self.contexts.append(context)
        page = context.new_page()
        tab = Tab(page)
        page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: tab.errors.append(str(e)))
        page.goto(url)
        return tab

    def close(self) -> None:
        for c in self.contexts:
            c.close()


def app_url(e2e: E2E) -> str:
    return e2e.control.api.removesuffix("/api/v1") + "/"


def sign_in(page: Page, user: User, *, lang: str = "sv") -> None:
    username, password, button = (
        ("Användarnamn", "Lösenord", "Logga in") if lang == "sv" else ("Username", "Password", "Sign in")
    )
    page.get_by_label(username).fill(user.username)
    page.get_by_label(password).fill(PASSWORD)
    page.get_by_role("button", name=button).click()
    page.get_by_test_id("me-name").get_by_text(user.name).wait_for()


def phone_ready(page: Page) -> None:
    """The page's softphone registered with the user's web device."""
    expect(page.get_by_test_id("phone")).to_have_attribute("data-status", "registered", timeout=15_000)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browsers(chromium: Browser) -> Iterator[Browsers]:
    b = Browsers(chromium)
    try:
        yield b
    finally:
        b.close()
