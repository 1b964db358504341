"""The events WebSocket by the rule of GET /calls: a plain user sees their own calls (and the
organization's presence and groups), never a colleague's; operators see all; a reconnect with
?since=<seq> replays exactly what was missed, or says events.lost and sends a fresh hello."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from pbx_control.ami import CallModel, EventPublisher
from pbx_control.api.app import PREFIX
from pbx_control.events.hub import hub_for
from pbx_control.tenancy import devices
from pbx_control.testing import bearer, composed_app, login, seed_world

pytestmark = [pytest.mark.integration, pytest.mark.events]
URL = f"{PREFIX}/events"


@asynccontextmanager
async def events_client(pool: asyncpg.Pool) -> AsyncIterator[tuple[TestClient, CallModel, EventPublisher]]:
    publisher = EventPublisher()
    calls = CallModel(publisher)
    client = TestClient(TestServer(composed_app(pool, calls=calls, events=publisher)))
    await client.start_server()
    try:
        yield client, calls, publisher
    finally:
        await client.close()


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict:
    msg = await asyncio.wait_for(ws.receive(), 10)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def drain(ws: aiohttp.ClientWebSocketResponse) -> list[dict]:
    """Everything the socket gets until it has been quiet for 0.3 s."""
    out: list[dict] = []
    while True:
        try:
            msg = await asyncio.wait_for(ws.receive(), 0.3)
        except TimeoutError:
            return out
        assert msg.type == aiohttp.WSMsgType.TEXT, msg
        out.append(json.loads(msg.data))


async def nothing_more(ws: aiohttp.ClientWebSocketResponse) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.receive(), 0.3)


def inbound_call(n: int, endpoint: str, caller: str) -> list[dict[str, str]]:
    """The AMI events of an outside caller reaching `endpoint`, answered and bridged (as Asterisk
    22 sends them, trimmed to the fields the model reads)."""
    trunk, phone, bridge = f"17000.{n}", f"17000.{n + 1}", f"bridge-{n}"
    trunk_name, phone_name = f"PJSIP/trunk_in-0000{n:04x}", f"PJSIP/{endpoint}-0001{n:04x}"
    common = {"AccountCode": "alpha", "Context": "from-trunk"}
    return [
        {
            "Event": "Newchannel",
            "Uniqueid": trunk,
            "Channel": trunk_name,
            "ChannelStateDesc": "Ring",
            "CallerIDNum": caller,
            "CallerIDName": "Outside",
            "Exten": "+46870000001",
            **common,
        },
        {
            "Event": "Newchannel",
            "Uniqueid": phone,
            "Channel": phone_name,
            "ChannelStateDesc": "Down",
            "ConnectedLineNum": caller,
            **common,
        },
        {
            "Event": "DialBegin",
            "Uniqueid": trunk,
            "Channel": trunk_name,
            "DestUniqueid": phone,
            "DestChannel": phone_name,
            "DestChannelStateDesc": "Ringing",
            "DialString": endpoint,
        },
        {"Event": "Newstate", "Uniqueid": phone, "Channel": phone_name, "ChannelStateDesc": "Up"},
        {"Event": "DialEnd", "Uniqueid": trunk, "DestUniqueid": phone, "DialStatus": "ANSWER"},
        {"Event": "BridgeEnter", "Uniqueid": trunk, "Channel": trunk_name, "BridgeUniqueid": bridge},
        {"Event": "BridgeEnter", "Uniqueid": phone, "Channel": phone_name, "BridgeUniqueid": bridge},
    ]


def hangup(n: int) -> list[dict[str, str]]:
    return [
        {"Event": "BridgeLeave", "Uniqueid": f"17000.{n + 1}", "BridgeUniqueid": f"bridge-{n}"},
        {"Event": "Hangup", "Uniqueid": f"17000.{n + 1}", "Cause": "16", "Cause-txt": "Normal Clearing"},
        {"Event": "BridgeLeave", "Uniqueid": f"17000.{n}", "BridgeUniqueid": f"bridge-{n}"},
        {"Event": "Hangup", "Uniqueid": f"17000.{n}", "Cause": "16", "Cause-txt": "Normal Clearing"},
    ]


def feed(calls: CallModel, events: list[dict[str, str]]) -> None:
    for event in events:
        calls.apply(event)


def about(message: dict) -> str | None:
    channel = message.get("channel")
    return channel["uniqueid"] if isinstance(channel, dict) else message.get("uniqueid")


async def _endpoints(pool: asyncpg.Pool) -> tuple[str, str]:
    """alpha-user's desk and a desk of their colleague alpha-admin."""
    world = await seed_world(pool)
    async with pool.acquire() as conn:
        colleague, _ = await devices.create_device(
            conn, world.orgs["alpha"], world.users["alpha-admin"], "desk"
        )
        mine = await conn.fetchval(
            "SELECT sip_username FROM devices WHERE id = $1", world.devices["alpha-user"]
        )
    return mine, colleague["sip_username"]


async def test_a_plain_user_sees_nothing_of_a_colleagues_call_an_operator_sees_it(
    db_pool: asyncpg.Pool,
) -> None:
    mine, colleague = await _endpoints(db_pool)
    async with events_client(db_pool) as (client, calls, publisher):
        user_token = await login(client, "alpha-user")
        operator_token = await login(client, "alpha-operator")
        async with (
            client.ws_connect(URL, headers=bearer(user_token)) as user,
            client.ws_connect(URL, headers=bearer(operator_token)) as operator,
        ):
            await receive(user), await receive(operator)  # hellos
            feed(calls, inbound_call(1, colleague, "+46701111111"))
            publisher.publish({"type": "presence.changed", "organization": "alpha", "user": 1})
            feed(calls, inbound_call(3, mine, "+46702222222"))
            seen_by_operator = await drain(operator)
            assert {about(m) for m in seen_by_operator} >= {"17000.1", "17000.2", "17000.3", "17000.4"}
            first, *mine_seen = await drain(user)
            # the presence change is the first thing the user sees: nothing of the colleague's call
            assert first["type"] == "presence.changed"
            of_my_call = [m for m in seen_by_operator if about(m) in ("17000.3", "17000.4")]
            assert mine_seen == of_my_call
            assert {about(m) for m in mine_seen} == {"17000.3", "17000.4"}  # my phone and my caller
            assert all("+46701111111" not in json.dumps(m) for m in mine_seen)
            feed(calls, hangup(1))
            await nothing_more(user)
            # a colleague's call already up when I connect is not in my hello either
            feed(calls, inbound_call(5, colleague, "+46703333333"))
            async with (
                client.ws_connect(URL, headers=bearer(user_token)) as late_user,
                client.ws_connect(URL, headers=bearer(operator_token)) as late_operator,
            ):
                assert {c["uniqueid"] for c in (await receive(late_user))["channels"]} == {
                    "17000.3",
                    "17000.4",
                }
                assert {c["uniqueid"] for c in (await receive(late_operator))["channels"]} == {
                    "17000.3",
                    "17000.4",
                    "17000.5",
                    "17000.6",
                }


async def test_a_reconnect_with_since_replays_exactly_what_was_missed(db_pool: asyncpg.Pool) -> None:
    mine, colleague = await _endpoints(db_pool)
    async with events_client(db_pool) as (client, calls, _publisher):
        token = await login(client, "alpha-user")
        async with client.ws_connect(URL, headers=bearer(token)) as witness:  # never disconnects
            hello = await receive(witness)
            epoch = hello["epoch"]
            async with client.ws_connect(URL, headers=bearer(token)) as first:
                await receive(first)
                feed(calls, inbound_call(1, mine, "+46701111111"))
                got = await drain(first)
                seqs = [m["seq"] for m in got]
                assert len(got) > 3 and seqs == sorted(set(seqs))
                last = seqs[-1]
            before = await drain(witness)
            assert before == got
            # while disconnected: my call ends, a colleague's call comes and goes, a new call of mine
            feed(calls, hangup(1))
            feed(calls, inbound_call(3, colleague, "+46702222222"))
            feed(calls, hangup(3))
            feed(calls, inbound_call(5, mine, "+46703333333"))
            missed = await drain(witness)
            assert {about(m) for m in missed} == {"17000.1", "17000.2", "17000.5", "17000.6"}
            assert all(m["seq"] > last for m in missed)
            async with client.ws_connect(f"{URL}?since={last}&epoch={epoch}", headers=bearer(token)) as again:
                resumed = await receive(again)
                assert resumed["type"] == "events.resumed" and resumed["since"] == last
                assert resumed["seq"] == missed[-1]["seq"]
                assert await drain(again) == missed
                feed(calls, hangup(5))
                live = await receive(again)
                assert live["seq"] > missed[-1]["seq"] and about(live) in ("17000.5", "17000.6")


async def test_since_from_another_epoch_or_beyond_the_window_gets_events_lost_and_a_hello(
    db_pool: asyncpg.Pool,
) -> None:
    mine, _ = await _endpoints(db_pool)
    async with events_client(db_pool) as (client, calls, publisher):
        token = await login(client, "alpha-user")
        async with client.ws_connect(URL, headers=bearer(token)) as keeper:
            hello = await receive(keeper)
            feed(calls, inbound_call(1, mine, "+46701111111"))
            for query in (f"?since=0&epoch=not-{hello['epoch']}", "?since=999"):
                async with client.ws_connect(URL + query, headers=bearer(token)) as ws:
                    lost = await receive(ws)
                    assert lost["type"] == "events.lost" and lost["epoch"] == hello["epoch"]
                    fresh = await receive(ws)
                    assert fresh["type"] == "hello" and fresh["seq"] == lost["seq"]
                    assert {c["uniqueid"] for c in fresh["channels"]} == {"17000.1", "17000.2"}
            hub = hub_for(publisher)
            hub._logs["alpha"].window = 2  # the window moves on past the client's seq
            feed(calls, hangup(1))
            async with client.ws_connect(f"{URL}?since=1", headers=bearer(token)) as ws:
                assert (await receive(ws))["type"] == "events.lost"
                assert (await receive(ws))["channels"] == []
            resp = await client.get(f"{URL}?since=abc", headers=bearer(token))
            assert resp.status == 400
