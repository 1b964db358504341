"""AmiClient against a FAKE AMI server, for the failures real Asterisk cannot be made to produce on
demand (dropped connections, refused logins, silent peers). Real-Asterisk tests live in e2e."""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture
from structlog.typing import EventDict

import pbx_control.ami.client as client_module
from pbx_control.ami import (
    AmiClient,
    AmiError,
    AmiTimeout,
    AmiUnavailable,
    CallModel,
    EventPublisher,
)
from pbx_control.config import Settings

pytestmark = [pytest.mark.unit, pytest.mark.ami]

USERNAME = "pbx-control"
SECRET = "s3cret-do-not-log"


def frame(fields: dict[str, Any]) -> bytes:
    lines = []
    for key, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key}: {item}\r\n")
    return ("".join(lines) + "\r\n").encode()


def channel_entry(name: str, uniqueid: str, **extra: str) -> dict[str, str]:
    return {
        "Channel": name,
        "ChannelState": "6",
        "ChannelStateDesc": "Up",
        "CallerIDNum": "1001",
        "CallerIDName": "Alice",
        "ConnectedLineNum": "<unknown>",
        "ConnectedLineName": "<unknown>",
        "Language": "en",
        "AccountCode": "acme",
        "Context": "acme-internal",
        "Exten": "1002",
        "Priority": "1",
        "Uniqueid": uniqueid,
        "Linkedid": uniqueid,
        "Application": "Dial",
        "ApplicationData": "PJSIP/acme_1002_desk",
        "Duration": "00:00:10",
        "BridgeId": "",
        **extra,
    }


class FakeAmi:
    """Speaks just enough AMI: banner, Login, FullyBooted, Ping, CoreShowChannels, Command, a few
    "successfully queued" actions, and actions it never answers."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.channels: list[dict[str, str]] = []
        self.after_list: list[dict[str, str]] = []  # events written right after the list, same chunk
        self.commands: dict[str, tuple[str, list[str]]] = {}
        self.answer_ping = True
        self.send_fully_booted = True
        self.silent = {"hold"}  # actions never answered
        self.received: list[dict[str, str]] = []
        self.logins: list[bool] = []
        self.connected_at: list[float] = []
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop_listening(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None

    def drop(self) -> None:
        for writer in list(self.writers):
            writer.transport.abort()

    async def close(self) -> None:
        self.drop()
        await self.stop_listening()

    def event(self, fields: dict[str, Any]) -> None:
        for writer in list(self.writers):
            writer.write(frame(fields))

    def actions(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.received if a.get("Action", "").lower() == name.lower()]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected_at.append(time.monotonic())
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in raw.decode().split("\r\n") if ": " in line)
                self.received.append(headers)
                if not await self._answer(headers, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.writers.discard(writer)
            writer.close()

    async def _answer(self, h: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        action = h.get("Action", "").lower()
        aid = {"ActionID": h.get("ActionID", "")}
        if action == "login":
            ok = h.get("Username") == USERNAME and h.get("Secret") == self.secret
            self.logins.append(ok)
            if not ok:  # Asterisk answers, then hangs up
                writer.write(frame({"Response": "Error", **aid, "Message": "Authentication failed"}))
                return False
            out = frame({"Response": "Success", **aid, "Message": "Authentication accepted"})
            if self.send_fully_booted:
                out += frame({"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"})
            writer.write(out)
            self.writers.add(writer)
        elif action == "ping":
            if self.answer_ping:
                writer.write(frame({"Response": "Success", **aid, "Ping": "Pong", "Timestamp": "1.0"}))
        elif action == "coreshowchannels":
            out = frame(
                {"Response": "Success", **aid, "EventList": "start", "Message": "Channels will follow"}
            )
            for entry in self.channels:
                out += frame({"Event": "CoreShowChannel", **aid, **entry})
            out += frame(
                {
                    "Event": "CoreShowChannelsComplete",
                    **aid,
                    "EventList": "Complete",
                    "ListItems": str(len(self.channels)),
                }
            )
            for event in self.after_list:
                out += frame(event)
            writer.write(out)
        elif action == "command":
            cli = h.get("Command", "")
            default = (
                "Error",
                [f"No such command '{cli}' (type 'core show help {cli}' for other possible commands)"],
            )
            response, output = self.commands.get(cli, default)
            writer.write(
                frame({"Response": response, **aid, "Message": "Command output follows", "Output": output})
            )
        elif action == "originate" and h.get("Async") == "true":
            writer.write(frame({"Response": "Success", **aid, "Message": "Originate successfully queued"}))
            await writer.drain()
            await asyncio.sleep(0.05)  # ringing
            writer.write(
                frame(
                    {
                        "Event": "OriginateResponse",
                        "Privilege": "call,all",
                        **aid,
                        "Response": "Success",
                        "Channel": h.get("Channel", ""),
                        "Reason": "4",
                        "Uniqueid": "300.1",
                    }
                )
            )
        elif action == "playdtmf":
            writer.write(frame({"Response": "Success", **aid, "Message": "DTMF successfully queued"}))
        elif action == "queueadd":
            writer.write(frame({"Response": "Success", **aid, "Message": "Added interface to queue"}))
        elif action not in self.silent:
            writer.write(frame({"Response": "Error", **aid, "Message": "Invalid/unknown command"}))
        return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_client(port: int, secret: str = SECRET, **overrides: Any) -> AmiClient:
    settings = Settings(ami_host="127.0.0.1", ami_port=port, ami_username=USERNAME, ami_secret=secret)
    options: dict[str, Any] = {
        "backoff_initial": 0.02,
        "backoff_max": 0.2,
        "action_timeout": 2.0,
        "connect_timeout": 1.0,
        "ping_interval": 30.0,
        "ping_timeout": 1.0,
        "fully_booted_timeout": 2.0,
    }
    options.update(overrides)
    return AmiClient(settings, **options)


async def eventually(predicate: Callable[[], bool], within_s: float = 3.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> list[EventDict]:
    """The client's structlog entries (independent of how structlog is configured globally)."""
    capture = LogCapture()
    logger = structlog.wrap_logger(
        None, processors=[capture], wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG)
    )
    monkeypatch.setattr(client_module, "log", logger)
    return capture.entries


@pytest.fixture
async def clients() -> AsyncIterator[list[AmiClient]]:
    started: list[AmiClient] = []
    yield started
    for client in started:
        await client.stop()


def names(entries: list[EventDict]) -> list[str]:
    return [entry["event"] for entry in entries]


async def test_reconnect_reruns_on_ready_and_rederives_the_model(
    fake: FakeAmi, clients: list[AmiClient], logs: list[EventDict]
) -> None:
    fake.channels = [
        channel_entry("PJSIP/acme_1001_desk-00000001", "100.1"),
        channel_entry("PJSIP/acme_1002_desk-00000002", "100.2"),
    ]
    publisher = EventPublisher()
    subscription = publisher.subscribe()
    model = CallModel(publisher)
    client = make_client(fake.port)
    clients.append(client)
    model.attach(client)
    ready_runs: list[bool] = []
    client.on_ready(lambda: ready_runs.append(client.fully_booted))

    await client.start()
    await client.wait_ready(3)
    assert client.connected and client.fully_booted
    first_connected_at = client.last_connected_at
    assert {c.uniqueid for c in model.channels()} == {"100.1", "100.2"}
    assert model.is_endpoint_busy("acme_1001_desk")

    # Asterisk restarted meanwhile: the old calls are gone, a new one exists.
    fake.channels = [channel_entry("PJSIP/acme_1003_desk-00000001", "200.1")]
    fake.drop()
    await eventually(lambda: not client.connected)
    with pytest.raises(AmiUnavailable):
        await client.send({"Action": "Ping"})

    await eventually(lambda: len(fake.logins) == 2 and client.ready)
    assert {c.uniqueid for c in model.channels()} == {"200.1"}
    assert not model.is_endpoint_busy("acme_1001_desk")
    assert model.is_endpoint_busy("acme_1003_desk")
    assert ready_runs == [True, True]
    assert client.last_connected_at is not None and first_connected_at is not None
    assert client.last_connected_at > first_connected_at
    assert fake.connected_at[1] - fake.connected_at[0] < 1.0  # backoff restarts small after a good login

    resets = [e for e in (subscription.get_nowait() for _ in range(subscription.queue.qsize()))]
    assert [e["type"] for e in resets] == ["model.reset", "model.reset"]
    assert [c["uniqueid"] for c in resets[1]["channels"]] == ["200.1"]

    logged = names(logs)
    for expected in (
        "ami.connected",
        "ami.fully_booted",
        "ami.ready",
        "ami.connection_lost",
        "ami.reconnect_scheduled",
    ):
        assert expected in logged
    assert logged.count("ami.connected") == 2


async def test_asterisk_down_at_start_then_up(clients: list[AmiClient]) -> None:
    port = free_port()
    client = make_client(port)
    clients.append(client)
    started = time.monotonic()
    await client.start()  # does not fail, does not wait
    assert time.monotonic() - started < 0.5
    assert not client.connected
    await asyncio.sleep(0.1)  # a few refused attempts

    server = FakeAmi()
    await server.start(port)
    try:
        await client.wait_ready(3)
        assert client.connected
    finally:
        await server.close()


async def test_refused_login_is_reported_retried_with_backoff_and_never_logs_the_secret(
    fake: FakeAmi,
    clients: list[AmiClient],
    logs: list[EventDict],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(fake.port, secret="wrong-" + SECRET, backoff_initial=0.04, backoff_max=0.5)
    clients.append(client)
    await client.start()
    await eventually(lambda: len(fake.logins) >= 5, within_s=5)
    assert not any(fake.logins)
    assert not client.connected
    with pytest.raises(AmiUnavailable):
        await client.send({"Action": "Ping"})

    failures = [e for e in logs if e["event"] == "ami.login_failed"]
    assert len(failures) >= 4
    assert failures[0]["reason"] == "Authentication failed"
    assert failures[0]["username"] == USERNAME
    gaps = [b - a for a, b in itertools.pairwise(fake.connected_at)][:4]
    assert all(later > earlier * 1.2 for earlier, later in itertools.pairwise(gaps)), gaps
    delays = [e["delay_s"] for e in logs if e["event"] == "ami.reconnect_scheduled"]
    assert delays[:4] == sorted(delays[:4]) and max(delays) <= 0.5

    assert SECRET not in repr(logs)
    assert SECRET not in caplog.text

    fake.secret = "wrong-" + SECRET  # the operator fixes the configuration
    await client.wait_ready(3)
    assert client.connected


async def test_send_when_not_connected_fails_fast(clients: list[AmiClient]) -> None:
    client = make_client(free_port())
    clients.append(client)
    started = time.monotonic()
    with pytest.raises(AmiUnavailable, match="not connected"):
        await client.send({"Action": "Ping"})  # before start
    await client.start()
    with pytest.raises(AmiUnavailable):
        await client.command("core show version")
    assert time.monotonic() - started < 0.1


async def test_successfully_queued_responses_do_not_drop_the_connection(
    fake: FakeAmi, clients: list[AmiClient]
) -> None:
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)

    response = await client.send(
        {"Action": "PlayDTMF", "Channel": "PJSIP/acme_1001_desk-00000001", "Digit": "5"}
    )
    assert not isinstance(response, list)
    assert response["Message"] == "DTMF successfully queued"
    assert fake.actions("PlayDTMF")[0]["Async"] == "false"
    response = await client.send(
        {"Action": "QueueAdd", "Queue": "sales", "Interface": "PJSIP/acme_1001_desk"}
    )
    assert not isinstance(response, list)
    assert response["Message"] == "Added interface to queue"

    pong = await client.send({"Action": "Ping"})
    assert not isinstance(pong, list) and pong["Ping"] == "Pong"
    assert client.connected
    assert len(fake.connected_at) == 1


async def test_originate_is_async_and_resolves_at_originate_response(
    fake: FakeAmi, clients: list[AmiClient]
) -> None:
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)
    action = {"Action": "Originate", "Channel": "PJSIP/acme_1001_desk", "Exten": "1002", "Timeout": "20000"}
    pending = client.submit(action)
    assert pending.timeout_s == pytest.approx(20 + 2.0)  # ring timeout + action timeout
    response = await pending.result()
    assert isinstance(response, list)
    assert [m.get("Event", m.get("Response")) for m in response] == ["Success", "OriginateResponse"]
    assert response[1]["Reason"] == "4"
    assert fake.actions("Originate")[0]["Async"] == "true"


async def test_error_response_and_timeout(fake: FakeAmi, clients: list[AmiClient]) -> None:
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)

    with pytest.raises(AmiError, match="Invalid/unknown command") as error:
        await client.send({"Action": "NoSuchAction"})
    assert error.value.action == "NoSuchAction"
    assert type(error.value) is AmiError

    started = time.monotonic()
    with pytest.raises(AmiTimeout):
        await client.send({"Action": "Hold", "Channel": "x"}, timeout_s=0.1)
    assert time.monotonic() - started < 0.5
    assert client.connected
    pong = await client.send({"Action": "Ping"})
    assert not isinstance(pong, list) and pong["Ping"] == "Pong"


async def test_command_output(fake: FakeAmi, clients: list[AmiClient]) -> None:
    fake.commands = {
        "dialplan reload": ("Success", ["Dialplan reloaded."]),
        "core show uptime": ("Success", ["System uptime: 5 minutes, 2 seconds", "Last reload: 1 minute"]),
    }
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)

    assert await client.command("dialplan reload") == "Dialplan reloaded."
    assert await client.command("core show uptime") == (
        "System uptime: 5 minutes, 2 seconds\nLast reload: 1 minute"
    )
    with pytest.raises(AmiError, match="No such command 'bogus'"):
        await client.command("bogus")


async def test_pending_action_fails_on_drop_and_is_never_resent(
    fake: FakeAmi, clients: list[AmiClient]
) -> None:
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)

    pending = asyncio.create_task(client.send({"Action": "Hold", "Channel": "x"}, timeout_s=5))
    await eventually(lambda: len(fake.actions("Hold")) == 1)
    fake.drop()
    with pytest.raises(AmiUnavailable, match="lost"):
        await asyncio.wait_for(pending, 1)

    await eventually(lambda: len(fake.logins) == 2 and client.ready)
    await client.send({"Action": "Ping"})  # a round trip on the new connection
    assert len(fake.actions("Hold")) == 1


async def test_events_right_after_the_snapshot_are_not_lost(fake: FakeAmi, clients: list[AmiClient]) -> None:
    fake.channels = [
        channel_entry("PJSIP/acme_1001_desk-00000001", "100.1"),
        channel_entry("PJSIP/acme_1002_desk-00000002", "100.2"),
    ]
    fake.after_list = [
        {"Event": "Hangup", **channel_entry("PJSIP/acme_1002_desk-00000002", "100.2"), "Cause": "16"},
        {"Event": "Newchannel", **channel_entry("PJSIP/acme_1004_desk-00000003", "100.3")},
    ]
    model = CallModel()
    client = make_client(fake.port)
    clients.append(client)
    model.attach(client)
    await client.start()
    await client.wait_ready(3)
    assert {c.uniqueid for c in model.channels()} == {"100.1", "100.3"}


async def test_live_events_update_the_model_and_split_utf8_survives(
    fake: FakeAmi, clients: list[AmiClient]
) -> None:
    model = CallModel()
    client = make_client(fake.port)
    clients.append(client)
    model.attach(client)
    failing_calls: list[str] = []

    def broken(event: Any) -> None:
        failing_calls.append(event["Event"])
        raise RuntimeError("a bug in some subscriber")

    client.on_event("Newchannel", broken)
    await client.start()
    await client.wait_ready(3)

    data = frame(
        {"Event": "Newchannel", **channel_entry("PJSIP/acme_1001_desk-00000001", "1.1", CallerIDName="Zoë")}
    )
    cut = data.index("ë".encode()) + 1  # in the middle of the two bytes of ë
    (writer,) = fake.writers
    writer.write(data[:cut])
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.write(data[cut:])
    await eventually(lambda: model.get("1.1") is not None)
    channel = model.get("1.1")
    assert channel is not None
    assert channel.caller_id_name == "Zoë"
    assert failing_calls == ["Newchannel"]
    assert client.connected and len(fake.connected_at) == 1  # the broken callback did not drop it

    fake.event({"Event": "Hangup", **channel_entry("PJSIP/acme_1001_desk-00000001", "1.1")})
    await eventually(lambda: len(model) == 0)


async def test_shutdown_event_reconnects(fake: FakeAmi, clients: list[AmiClient]) -> None:
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)
    fake.event({"Event": "Shutdown", "Privilege": "system,all", "Shutdown": "Cleanly", "Restart": "True"})
    await eventually(lambda: len(fake.logins) == 2 and client.ready)


async def test_unanswered_ping_drops_and_reconnects(fake: FakeAmi, clients: list[AmiClient]) -> None:
    client = make_client(fake.port, ping_interval=0.05, ping_timeout=0.1)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)
    await asyncio.sleep(0.2)
    assert len(fake.logins) == 1  # answered pings keep it
    fake.answer_ping = False
    await eventually(lambda: len(fake.logins) >= 2)
    fake.answer_ping = True
    await client.wait_ready(3)


async def test_ready_without_fully_booted_after_timeout(fake: FakeAmi, clients: list[AmiClient]) -> None:
    fake.send_fully_booted = False
    client = make_client(fake.port, fully_booted_timeout=0.1)
    clients.append(client)
    runs: list[bool] = []
    client.on_ready(lambda: runs.append(client.fully_booted))
    await client.start()
    await client.wait_ready(3)
    assert runs == [False]
    # Asterisk finishes booting later on the same connection: on_ready runs again.
    fake.event({"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"})
    await eventually(lambda: runs == [False, True])
    assert client.fully_booted


async def test_a_ready_callback_that_times_out_is_tried_again_until_answered(
    fake: FakeAmi, clients: list[AmiClient]
) -> None:
    """Asterisk busy after its start: a re-derivation that timed out is not left undone until the
    next reconnect, and the callbacks after it and readiness do not wait for it."""
    fake.silent.add("queuestatus")
    client = make_client(fake.port, ready_retry_initial=0.05, ready_retry_max=0.1)
    clients.append(client)
    asked: list[str] = []
    answered: list[bool] = []
    after: list[bool] = []

    async def rederive() -> None:
        asked.append("QueueStatus")
        try:
            await client.send({"Action": "QueueStatus"}, timeout_s=0.05)
        except AmiTimeout:
            raise
        except AmiError:
            answered.append(True)  # an answer all the same (the fake knows no QueueStatus)

    client.on_ready(rederive)
    client.on_ready(lambda: after.append(True))
    await client.start()
    await client.wait_ready(3)
    assert after == [True]
    await eventually(lambda: len(asked) >= 3)
    fake.silent.discard("queuestatus")  # Asterisk answers again
    await eventually(lambda: answered == [True])
    settled = len(asked)
    await asyncio.sleep(0.3)
    assert len(asked) == settled  # answered once: no more retries
    assert len(fake.logins) == 1  # on the same connection
    assert after == [True]


async def test_ready_retries_end_with_the_connection(fake: FakeAmi, clients: list[AmiClient]) -> None:
    fake.silent.add("queuestatus")
    client = make_client(fake.port, ready_retry_initial=0.05, ready_retry_max=0.05)
    clients.append(client)
    asked: list[int] = []

    async def rederive() -> None:
        asked.append(len(fake.logins))
        await client.send({"Action": "QueueStatus"}, timeout_s=0.02)

    client.on_ready(rederive)
    await client.start()
    await client.wait_ready(3)
    await eventually(lambda: len(asked) >= 2)
    fake.drop()
    await eventually(lambda: len(fake.logins) >= 2)
    await client.wait_ready(3)
    first = asked.count(1)
    await asyncio.sleep(0.3)
    assert asked.count(1) == first  # the first connection's retries stopped with it
    assert asked.count(2) >= 2  # the second connection's go on


async def test_on_ready_registered_late_runs_now(fake: FakeAmi, clients: list[AmiClient]) -> None:
    fake.channels = [channel_entry("PJSIP/acme_1001_desk-00000001", "100.1")]
    client = make_client(fake.port)
    clients.append(client)
    await client.start()
    await client.wait_ready(3)
    model = CallModel()
    model.attach(client)
    await eventually(lambda: len(model) == 1)


async def test_the_snapshot_entries_reach_snapshot_hooks(fake: FakeAmi, clients: list[AmiClient]) -> None:
    """What the model does not keep (a channel's application) is read from its one snapshot."""
    fake.channels = [channel_entry("PJSIP/acme_1001_desk-00000001", "100.1", Application="Queue")]
    client = make_client(fake.port)
    clients.append(client)
    model = CallModel()
    seen: list[list[str]] = []
    model.on_snapshot(lambda entries: seen.append([str(e.get("Application")) for e in entries]))
    model.attach(client)
    await client.start()
    await client.wait_ready(3)
    await eventually(lambda: seen == [["Queue"]])
    assert len(fake.actions("CoreShowChannels")) == 1


async def test_stop_disconnects_and_does_not_reconnect(fake: FakeAmi) -> None:
    client = make_client(fake.port)
    await client.start()
    await client.wait_ready(3)
    await client.stop()
    assert not client.connected
    await asyncio.sleep(0.2)
    assert len(fake.connected_at) == 1
    with pytest.raises(AmiUnavailable):
        await client.send({"Action": "Ping"})
