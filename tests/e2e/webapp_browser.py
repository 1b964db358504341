"""Debian's chromium driven by Playwright for Python, for the web app tests: headless, fake media, no
background traffic, and every console error and page error collected so a test can assert there were none.
Screenshots go to tests/artifacts/webapp/ (gitignored), whose path the tests print."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "tests" / "artifacts" / "webapp"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


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

    def open(self, url: str, *, viewport: dict[str, int] = DESKTOP, locale: str = "sv-SE") -> Tab:
        """A new browser context (its own storage: another person) on url."""
        context = self.browser.new_context(viewport=viewport, locale=locale)  # type: ignore[arg-type]
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
