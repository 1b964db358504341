"""The web app's live updates over the events WebSocket (a ticket from POST /events/tickets, then
GET /events?ticket=): a colleague's activity and a group login by someone else show without a reload;
when the connection drops the page says so, reconnects with ?since=&epoch= and gets what it missed.
The drop is real: the page talks to the service through a TCP proxy the test cuts off."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import E2E
from tests.e2e.webapp_browser import Browsers, sign_in
from tests.e2e.webapp_browser import browsers as browsers
from tests.e2e.webapp_browser import chromium as chromium
from tests.support.api import Api
from tests.support.calls import app
from tests.support.pgproxy import PgProxy
from tests.support.provision import new_org

pytestmark = [pytest.mark.e2e, pytest.mark.webapp]


class CutOff:
    """A TCP proxy in front of the control service, run on its own event loop in a thread."""

    def __init__(self, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = PgProxy(port)
        self.run(self.proxy.start())

    def run(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]

    def close(self) -> None:
        self.run(self.proxy.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def cut_off(e2e: E2E) -> Iterator[CutOff]:
    port = urlsplit(e2e.control.api).port
    assert port is not None
    proxy = CutOff(port)
    try:
        yield proxy
    finally:
        proxy.close()


def test_a_dropped_connection_is_shown_and_picks_up_where_it_left_off(
    e2e: E2E, platform: Api, browsers: Browsers, cut_off: CutOff
) -> None:
    org = new_org(platform)
    anna = org.add_user("1001", "Anna Svensson", devices=0)
    bo = org.add_user("1002", "Bo Ek", devices=0)
    group = org.admin.post(
        "/groups", {"extension": "20", "name": "Support", "members": [{"user_id": bo.id}]}, expect=201
    )
    tab = browsers.open(f"http://127.0.0.1:{cut_off.proxy.port}/")
    page = tab.page
    sign_in(page, bo)
    banner = page.get_by_test_id("connection")
    expect(banner).to_have_attribute("data-state", "open")
    expect(banner).to_be_hidden()

    # Live, without a reload: Anna's activity, and an admin logging Bo in to the group.
    annas_row = page.get_by_test_id(f"presence-{anna.id}")
    expect(annas_row).to_have_attribute("data-activity", "available")
    app(e2e, anna).request(
        "PUT", "/users/me/activity", {"activity": "lunch", "duration_minutes": 60}, expect=200
    )
    expect(annas_row).to_have_attribute("data-activity", "lunch", timeout=5_000)
    row = page.get_by_test_id(f"group-{group['id']}")
    expect(row).to_have_attribute("data-state", "grey")
    org.admin.post(f"/groups/{group['id']}/login", {"user_id": bo.id})
    expect(row).to_have_attribute("data-state", "green", timeout=5_000)

    cut_off.run(cut_off.proxy.down())
    expect(banner).to_be_visible(timeout=10_000)
    expect(banner).to_have_text("Anslutningen till växeln bröts. Återansluter …")
    tab.screenshot("connection-lost-desktop-sv")
    # Missed while away: Anna goes to a meeting.
    app(e2e, anna).request(
        "PUT", "/users/me/activity", {"activity": "meeting", "duration_minutes": 60}, expect=200
    )
    cut_off.run(cut_off.proxy.up())

    expect(banner).to_be_hidden(timeout=15_000)
    expect(banner).to_have_attribute("data-resume", "resumed")  # ?since= worked: no fresh start
    expect(annas_row).to_have_attribute("data-activity", "meeting", timeout=5_000)
    # While cut off the browser logs its refused requests; nothing else may be in the console.
    assert [e for e in tab.errors if "ERR_CONNECTION_REFUSED" not in e] == []
