"""GET /api/v1/events: the WebSocket event stream (auth, organization filter, slow clients).

The organization filter is shown with operators, who see all of their organization's calls; what a
plain user sees is tests/integration/test_api_events_visibility.py."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.ami import CallModel, EventPublisher
from pbx_control.api.app import PREFIX
from pbx_control.api.context import CALLS
from pbx_control.events import http as events_route
from pbx_control.events import sockets as events_sockets
from pbx_control.events.hub import hub_for
from pbx_control.testing import api_client, bearer, composed_app, login, seed_world

pytestmark = [pytest.mark.integration, pytest.mark.events]
URL = f"{PREFIX}/events"


@asynccontextmanager
async def events_client(pool: asyncpg.Pool, publisher: EventPublisher) -> AsyncIterator[TestClient]:
    calls = CallModel(publisher)
    app = composed_app(pool, calls=calls, events=publisher)
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def channel_event(org: str | None, uniqueid: str, **extra: object) -> dict:
    return {"type": "channel.updated", "organization": org, "channel": {"uniqueid": uniqueid}, **extra}


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict:
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    for _ in range(1000):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_members_get_a_hello_then_only_their_organizations_events(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    publisher = EventPublisher()
    async with events_client(db_pool, publisher) as client:
        alpha_token = await login(client, "alpha-operator")
        beta_token = await login(client, "beta-operator")
        async with (
            client.ws_connect(URL, headers=bearer(alpha_token)) as alpha,
            client.ws_connect(URL, headers=bearer(beta_token)) as beta,
        ):
            hello = await receive(alpha)
            assert hello == {
                "type": "hello",
                "organization": "alpha",
                "channels": [],
                "seq": 0,
                "epoch": hub_for(publisher).epoch,
            }
            assert (await receive(beta))["organization"] == "beta"
            publisher.publish(channel_event("beta", "b1"))
            publisher.publish(channel_event("alpha", "a1"))
            publisher.publish(channel_event(None, "nobody"))
            publisher.publish({"type": "channel.removed", "organization": "alpha", "uniqueid": "a1"})
            assert (await receive(alpha))["channel"]["uniqueid"] == "a1"
            assert await receive(alpha) == {
                "type": "channel.removed",
                "organization": "alpha",
                "uniqueid": "a1",
                "seq": 2,
                "epoch": hello["epoch"],
            }
            assert (await receive(beta))["channel"]["uniqueid"] == "b1"
            publisher.publish(channel_event("beta", "b2"))
            assert (await receive(beta))["channel"]["uniqueid"] == "b2"
            # alpha got nothing of beta's (nor the event without organization)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(alpha.receive(), 0.2)


async def test_hello_carries_the_current_channels_of_the_organization(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    publisher = EventPublisher()
    async with events_client(db_pool, publisher) as client:
        calls = client.app[CALLS]
        for uid, org in (("1.1", "alpha"), ("1.2", "beta")):
            calls.apply(
                {
                    "Event": "Newchannel",
                    "Uniqueid": uid,
                    "Channel": f"PJSIP/{org}_1001_1-00000001",
                    "AccountCode": org,
                }
            )
        token = await login(client, "alpha-operator")
        async with client.ws_connect(URL, headers=bearer(token)) as ws:
            hello = await receive(ws)
            assert [c["uniqueid"] for c in hello["channels"]] == ["1.1"]


async def ticket(client: TestClient, token: str) -> str:
    resp = await client.post(f"{URL}/tickets", headers=bearer(token))
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert body["expires_in_s"] == 30
    return str(body["ticket"])


async def handshake_refused(client: TestClient, query: str) -> int:
    with pytest.raises(aiohttp.WSServerHandshakeError) as err:
        await client.ws_connect(URL + query)
    return err.value.status


async def test_a_ticket_for_browsers_works_once_for_its_user(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    publisher = EventPublisher()
    async with events_client(db_pool, publisher) as client:
        token = await login(client, "beta-admin")
        first = await ticket(client, token)
        async with client.ws_connect(f"{URL}?ticket={first}") as ws:
            assert (await receive(ws))["organization"] == "beta"
        # single use: the same ticket again is refused
        assert await handshake_refused(client, f"?ticket={first}") == 401
        # only on a WebSocket upgrade: a plain request with ?ticket= is still unauthenticated
        resp = await client.get(f"{PREFIX}/users/me?ticket={await ticket(client, token)}")
        assert resp.status == 401
        # a logout in between kills the tickets issued under that token
        pending = await ticket(client, token)
        resp = await client.post(f"{PREFIX}/auth/logout", headers=bearer(token))
        assert resp.status in (200, 204)
        assert await handshake_refused(client, f"?ticket={pending}") == 401
        # a ticket needs a token
        resp = await client.post(f"{URL}/tickets")
        assert resp.status == 401


async def test_a_ticket_expires_after_30_seconds(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    now = [datetime(2026, 3, 2, 9, 0, tzinfo=UTC)]
    publisher = EventPublisher()
    app = composed_app(db_pool, calls=CallModel(publisher), events=publisher, clock=lambda: now[0])
    async with TestClient(TestServer(app)) as client:
        token = await login(client, "alpha-operator")
        late, in_time = await ticket(client, token), await ticket(client, token)
        now[0] += timedelta(seconds=29)
        async with client.ws_connect(f"{URL}?ticket={in_time}") as ws:
            assert (await receive(ws))["organization"] == "alpha"
        now[0] += timedelta(seconds=2)
        assert await handshake_refused(client, f"?ticket={late}") == 401


async def test_the_bearer_token_in_the_url_is_refused(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    async with events_client(db_pool, EventPublisher()) as client:
        token = await login(client, "beta-admin")
        resp = await client.get(
            f"{URL}?token={token}",
            headers={
                "Upgrade": "websocket",
                "Connection": "Upgrade",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode(),
            },
        )
        assert resp.status == 401
        error = (await resp.json())["error"]
        assert error["code"] == "token_in_url"
        assert "ticket" in error["message"]


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": "Bearer nope"}, ""),
        ({}, "?ticket=nope"),
        ({}, "?ticket="),
        ({}, "?token=nope"),
    ],
)
async def test_without_a_valid_token_401_before_any_upgrade(
    db_pool: asyncpg.Pool, headers: dict, query: str
) -> None:
    async with events_client(db_pool, EventPublisher()) as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await client.ws_connect(URL + query, headers=headers)
        assert err.value.status == 401


async def test_platform_admins_have_no_organization_stream(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    async with events_client(db_pool, EventPublisher()) as client:
        token = await login(client, "root")
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await client.ws_connect(URL, headers=bearer(token))
        assert err.value.status == 403


async def test_plain_http_and_processes_without_ami_get_json_errors(db_pool: asyncpg.Pool) -> None:
    await seed_world(db_pool)
    async with events_client(db_pool, EventPublisher()) as client:
        token = await login(client, "alpha-user")
        resp = await client.get(URL, headers=bearer(token))
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == "websocket_required"
    async with api_client(db_pool) as client:  # no AMI in this process
        token = await login(client, "alpha-user")
        resp = await client.get(URL, headers=bearer(token))
        assert resp.status == 503
        assert (await resp.json())["error"]["code"] == "unavailable"


async def test_a_revoked_token_closes_the_stream(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events_sockets, "RECHECK_TOKEN_S", 0.05)
    await seed_world(db_pool)
    async with events_client(db_pool, EventPublisher()) as client:
        token = await login(client, "alpha-user")
        async with client.ws_connect(URL, headers=bearer(token)) as ws:
            await receive(ws)
            resp = await client.post(f"{PREFIX}/auth/logout", headers=bearer(token))
            assert resp.status in (200, 204)
            msg = await asyncio.wait_for(ws.receive(), 10)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == events_sockets.CLOSE_TOKEN_INVALID


async def _raw_upgrade(port: int, token: str) -> socket.socket:
    """A client that upgrades and then never reads again (tiny receive buffer)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_everything(
    db_pool: asyncpg.Pool,
) -> None:
    await seed_world(db_pool)
    publisher = EventPublisher()
    async with events_client(db_pool, publisher) as client:
        token = await login(client, "alpha-operator")
        hub = hub_for(publisher)
        async with client.ws_connect(URL, headers=bearer(token)) as reader:
            await receive(reader)
            assert client.port is not None
            stuck = await _raw_upgrade(client.port, token)
            try:
                await wait_until(lambda: hub.client_count == 2, "second client joined")
                padding = "x" * 4000
                sent = 0
                while hub.client_count == 2 and sent < 20_000:
                    for _ in range(20):
                        publisher.publish(channel_event("alpha", str(sent), padding=padding))
                        sent += 1
                    # the reader keeps up: read what was just published
                    for n in range(sent - 20, sent):
                        assert (await receive(reader))["channel"]["uniqueid"] == str(n)
                assert hub.client_count == 1, "the stuck client was never dropped"
                assert not reader.closed
                publisher.publish(channel_event("alpha", "after"))
                assert (await receive(reader))["channel"]["uniqueid"] == "after"
            finally:
                stuck.close()


async def test_a_failed_snapshot_closes_with_1011_and_leaves_nothing_behind(
    db_pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> bytes:
        raise RuntimeError("a bug in the snapshot")

    await seed_world(db_pool)
    publisher = EventPublisher()
    async with events_client(db_pool, publisher) as client:
        token = await login(client, "alpha-user")
        monkeypatch.setattr(events_route, "_start", broken)
        async with client.ws_connect(URL, headers=bearer(token)) as ws:
            msg = await asyncio.wait_for(ws.receive(), 10)
            assert msg.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 1011
        hub = hub_for(publisher)
        open_sockets = client.app[events_route.SOCKETS]
        await wait_until(lambda: hub.client_count == 0 and len(open_sockets) == 0, "nothing left joined")
        monkeypatch.undo()
        async with client.ws_connect(URL, headers=bearer(token)) as ws:  # the next one works
            assert (await receive(ws))["type"] == "hello"
