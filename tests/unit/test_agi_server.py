"""FastAGI server over real sockets, with FakeAsterisk playing Asterisk."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from pbx_control.agi import AgiHangup, AgiServer, AgiSession
from pbx_control.agi.errors import AgiCommandError, AgiTimeout
from pbx_control.agi.server import Handler, decides_first
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.config import Settings

pytestmark = [pytest.mark.unit, pytest.mark.agi]

# Generous bounds: these only catch a stalled server, they do not measure speed.
PROMPT_S = 3.0


@contextlib.asynccontextmanager
async def serving(handlers: Mapping[str, Handler], **kwargs: Any) -> AsyncIterator[AgiServer]:
    kwargs.setdefault("deadline_s", 2.0)
    server = AgiServer(handlers, host="127.0.0.1", port=0, **kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def eventually(condition: Callable[[], bool], timeout_s: float = PROMPT_S) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polling server counters, which have no event
            await asyncio.sleep(0.01)


async def set_route(session: AgiSession) -> None:
    await session.set_variable("PBX_ROUTE", "internal")
    await session.set_variable("PBX_TARGET", f"PJSIP/{session.extension}")
    await session.set_variable("PBX_CALLER_NAME", session.callerid_name)


async def test_handler_variables_are_seen_exactly() -> None:
    async def handler(session: AgiSession) -> None:
        await set_route(session)
        await session.set_variable("PBX_NOTE", 'Eve"\nEXEC Dial PJSIP/x')

    async with serving({"route": handler}) as server:
        result = await FakeAsterisk(server.bound_port).run(
            "route", env={"extension": "1002", "calleridname": 'Дмитрий "D" \\ a & b; c'}
        )
    assert result.commands == [
        'SET VARIABLE PBX_ROUTE "internal"',
        'SET VARIABLE PBX_TARGET "PJSIP/1002"',
        'SET VARIABLE PBX_CALLER_NAME "Дмитрий \\"D\\" \\\\ a & b; c"',
        'SET VARIABLE PBX_NOTE "Eve\\" EXEC Dial PJSIP/x"',
    ]
    assert result.variables == {
        "PBX_ROUTE": "internal",
        "PBX_TARGET": "PJSIP/1002",
        "PBX_CALLER_NAME": 'Дмитрий "D" \\ a & b; c',
        "PBX_NOTE": 'Eve" EXEC Dial PJSIP/x',
    }
    assert result.server_closed and not result.protocol_errors
    assert (server.sessions_total, server.sessions_active, server.errors_total) == (1, 0, 0)


@pytest.mark.parametrize(
    "name", ["Eve\nEXEC Dial PJSIP/x", "Eve\nagi_accountcode: other", "Eve\n\nSET VARIABLE X y"]
)
async def test_newline_injected_into_the_header_is_rejected(name: str) -> None:
    # Asterisk writes agi_calleridname raw; a newline in it forges header lines. We drop the call
    # to the dialplan fallback rather than guess which lines are real.
    async with serving({"route": set_route}) as server:
        async with asyncio.timeout(PROMPT_S):
            result = await FakeAsterisk(server.bound_port).run("route", env={"calleridname": name})
        await eventually(lambda: server.sessions_active == 0)
    assert result.variables == {}
    assert server.rejected_total + server.errors_total >= 1


async def test_session_properties() -> None:
    seen: dict[str, Any] = {}

    async def inspect_session(session: AgiSession) -> None:
        seen.update(
            script=session.script,
            args=session.args,
            linkedid=session.linkedid,
            uniqueid=session.uniqueid,
            channel=session.channel,
            endpoint=session.endpoint,
            extension=session.extension,
            context=session.context,
            accountcode=session.accountcode,
            callerid_num=session.callerid_num,
            callerid_name=session.callerid_name,
        )

    async with serving({"inspect": inspect_session}) as server:
        await FakeAsterisk(server.bound_port).run(
            "/inspect?x=1",
            env={
                "channel": "PJSIP/acme_1001_desk-0000002a",
                "uniqueid": "1700000000.7",
                "callerid": "unknown",
                "calleridname": "unknown",
                "context": "from-internal",
                "extension": "200",
                "accountcode": "acme",
            },
            args=["1700000000.5", "extra arg"],
        )
    assert seen == {
        "script": "inspect",
        "args": ["1700000000.5", "extra arg"],
        "linkedid": "1700000000.5",
        "uniqueid": "1700000000.7",
        "channel": "PJSIP/acme_1001_desk-0000002a",
        "endpoint": "acme_1001_desk",
        "extension": "200",
        "context": "from-internal",
        "accountcode": "acme",
        "callerid_num": "",
        "callerid_name": "",
    }


async def test_get_variable_and_replies() -> None:
    seen: dict[str, Any] = {}

    async def reader(session: AgiSession) -> None:
        seen["set"] = await session.get_variable("PRESET")
        seen["missing"] = await session.get_variable("MISSING")
        seen["parens"] = await session.get_variable("PARENS")
        seen["multiline"] = await session.get_variable("MULTI")
        seen["name"] = await session.get_variable("CALLERID(name)")
        await session.set_variable("LATER", 42)
        seen["later"] = await session.get_variable("LATER")
        usage = await session.command("SET", "VARIABLE", "ONLY_NAME")  # wrong word count
        seen["usage"] = usage.code
        seen["exec"] = (await session.command("EXEC", "Playback", "hello world")).result
        seen["after"] = await session.get_variable("PRESET")  # still in step after the 520 block
        await session.verbose("done: a & b; c")

    async with serving({"read": reader}) as server:
        result = await FakeAsterisk(server.bound_port).run(
            "read",
            variables={"PRESET": "v", "PARENS": "a (b) c)", "MULTI": "l1\nl2", "CALLERID(name)": "Zoë"},
            responses={"EXEC": "200 result=0"},
        )
    assert seen == {
        "set": "v",
        "missing": None,
        "parens": "a (b) c)",
        "multiline": "l1\nl2",
        "name": "Zoë",
        "later": "42",
        "usage": 520,
        "exec": 0,
        "after": "v",
    }
    assert result.verbose == ["done: a & b; c"]
    assert result.commands[-1] == 'VERBOSE "done: a & b; c" 1'
    assert 'EXEC Playback "hello world"' in result.commands
    assert server.errors_total == 0


async def test_invalid_variable_name_is_a_handler_error() -> None:
    async def bad(session: AgiSession) -> None:
        await session.set_variable("X\nEXEC Dial", "v")

    async with serving({"bad": bad}) as server:
        result = await FakeAsterisk(server.bound_port).run("bad")
        await eventually(lambda: server.sessions_active == 0)
    assert result.commands == []
    assert server.errors_total == 1


# -- connections that misbehave must not stall others ----------------------------------------


async def _normal_session_completes(server: AgiServer) -> None:
    async with asyncio.timeout(PROMPT_S):
        result = await FakeAsterisk(server.bound_port).run("route")
    assert result.variables["PBX_ROUTE"] == "internal"


async def test_garbage_then_close_does_not_stall() -> None:
    async with serving({"route": set_route}) as server:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        writer.write(b"\x16\x03\x01\x00garbage\r\nGET / HTTP/1.1\r\n\r\n\x00\xff")
        await writer.drain()
        writer.close()
        await _normal_session_completes(server)
        await eventually(lambda: server.rejected_total == 1)
    assert server.errors_total == 0


async def test_garbage_with_blank_line_is_rejected_at_once() -> None:
    async with serving({"route": set_route}) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        writer.write(b"hello\n\n")
        await writer.drain()
        async with asyncio.timeout(PROMPT_S):
            assert await reader.read() == b""  # the server hung up on us
        writer.close()
        await _normal_session_completes(server)
    assert server.rejected_total == 1


async def test_connect_and_close_at_once_does_not_stall() -> None:
    async with serving({"route": set_route}) as server:
        for _ in range(20):
            _reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
            writer.close()
        await _normal_session_completes(server)
        await eventually(lambda: server.rejected_total == 20)
        await eventually(lambda: server.sessions_active == 0)


async def test_half_header_then_stall_does_not_stall_others() -> None:
    async with serving({"route": set_route}, header_timeout_s=0.5) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        writer.write(b"agi_network: yes\nagi_network_script: route\nagi_chan")
        await writer.drain()
        # The stalled peer is still connected while a normal call goes through.
        await _normal_session_completes(server)
        assert server.sessions_active == 1
        async with asyncio.timeout(PROMPT_S):
            assert await reader.read() == b""  # then the server drops the staller
        writer.close()
        await eventually(lambda: server.rejected_total == 1)
    assert server.errors_total == 0


async def test_oversize_header_is_rejected() -> None:
    async with serving({"route": set_route}) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        with contextlib.suppress(ConnectionError):
            for i in range(2000):
                writer.write(b"agi_filler_%d: %s\n" % (i, b"x" * 60))
            await writer.drain()
            async with asyncio.timeout(PROMPT_S):
                await reader.read()
        writer.close()
        await _normal_session_completes(server)
        await eventually(lambda: server.rejected_total == 1)


# -- hangup, deadline, failures ----------------------------------------------------------------


async def test_hangup_mid_handler_ends_cleanly() -> None:
    progress: list[str] = []

    async def handler(session: AgiSession) -> None:
        await session.set_variable("A", "1")
        progress.append("a")
        await session.get_variable("B")  # HANGUP arrives where its reply was expected
        progress.append("b")

    async with serving({"h": handler}) as server:
        result = await FakeAsterisk(server.bound_port).run("h", hangup_after=1)
        await eventually(lambda: server.sessions_active == 0)
    assert progress == ["a"]
    assert result.hangup_sent
    assert result.commands[0] == 'SET VARIABLE A "1"'
    assert (server.errors_total, server.timeouts_total, server.last_error_at) == (0, 0, None)


async def test_commands_after_hangup_raise() -> None:
    raised: list[str] = []

    async def handler(session: AgiSession) -> None:
        for name in ("A", "B", "C", "D"):
            try:
                await session.set_variable(name, "1")
            except AgiHangup:
                raised.append(name)
        assert session.hung_up

    async with serving({"h": handler}) as server:
        result = await FakeAsterisk(server.bound_port).run("h", hangup_after=1)
        await eventually(lambda: server.sessions_active == 0)
    # B's reply is read before C is sent: the HANGUP that stood there stops C and D.
    assert raised == ["C", "D"]
    assert len(result.commands) == 2  # C and D were never sent
    assert server.errors_total == 0


async def _play_until_set(port: int, answer_set: bool) -> tuple[list[bytes], bool]:
    """A client that answers the stream check, then reads commands without answering SET VARIABLE
    (answer_set=False): (the lines it read, whether the server closed without that reply)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines: list[bytes] = []
    try:
        writer.write(FakeAsterisk.encode_env(FakeAsterisk.build_env("h")))
        async with asyncio.timeout(PROMPT_S):
            while line := await reader.readline():
                lines.append(line)
                if line.startswith(b"GET FULL VARIABLE "):
                    nonce = line.split()[3].decode()
                    writer.write(f"200 result=1 ({nonce})\n".encode())
                elif line.startswith(b"SET VARIABLE") and answer_set:
                    writer.write(b"200 result=1\n")
                elif line.startswith(b"GET VARIABLE"):
                    writer.write(b"200 result=0\n")
        return lines, True
    finally:
        writer.close()


async def test_the_last_set_variable_is_not_waited_for() -> None:
    """The handler's last command sets the decision; the session ends once it is written, without
    a round trip for its reply (Asterisk sets the variable and ends the AGI with SUCCESS)."""

    async def handler(session: AgiSession) -> None:
        await session.set_variable("PBX_ROUTE", "dial")

    outcomes: list[str] = []
    async with serving({"h": handler}, on_session_end=lambda o, _s: outcomes.append(o)) as server:
        lines, closed = await _play_until_set(server.bound_port, answer_set=False)
        await eventually(lambda: server.sessions_active == 0)
    assert closed
    assert lines[-1] == b'SET VARIABLE PBX_ROUTE "dial"\n'
    assert outcomes == ["ok"]


async def test_a_set_variable_reply_is_read_before_the_next_command() -> None:
    """Nothing is pipelined: Asterisk reads commands with fgets on a polled socket, and a second
    command sent before the first's reply would wait in its buffer. A reply that never comes
    stops the next command at the command timeout."""
    seen: list[str] = []

    async def handler(session: AgiSession) -> None:
        await session.set_variable("A", "1")
        try:
            await session.get_variable("B")
        except AgiTimeout:
            seen.append("timeout")

    async with serving({"h": handler}, command_timeout_s=0.2) as server:
        lines, _closed = await _play_until_set(server.bound_port, answer_set=False)
        await eventually(lambda: server.sessions_active == 0)
    assert seen == ["timeout"]
    assert not any(line.startswith(b"GET VARIABLE") for line in lines)
    async with serving({"h": handler}) as server:
        lines, _closed = await _play_until_set(server.bound_port, answer_set=True)
    assert [line.split()[0:2] for line in lines[1:]] == [[b"SET", b"VARIABLE"], [b"GET", b"VARIABLE"]]


async def test_a_failed_set_variable_is_raised_at_the_next_command() -> None:
    failures: list[int] = []

    async def handler(session: AgiSession) -> None:
        await session.set_variable("A", "1")
        try:
            await session.get_variable("B")
        except AgiCommandError as exc:
            failures.append(exc.response.code)

    async with serving({"h": handler}) as server:
        result = await FakeAsterisk(server.bound_port).run("h", responses={"SET VARIABLE": "510 Invalid"})
        await eventually(lambda: server.sessions_active == 0)
    assert failures == [510]
    assert result.commands == ['SET VARIABLE A "1"']  # GET VARIABLE was not sent


async def test_hangup_before_first_command_skips_the_handler() -> None:
    calls: list[str] = []

    async def handler(session: AgiSession) -> None:
        calls.append(session.uniqueid)

    async with serving({"h": handler}) as server:
        result = await FakeAsterisk(server.bound_port).run("h", hangup_after=0)
        await eventually(lambda: server.sessions_active == 0)
    assert calls == []
    assert result.commands == []
    assert server.errors_total == 0


async def test_dead_channel_reply_and_eof_count_as_hangup() -> None:
    async def handler(session: AgiSession) -> None:
        await session.command("ANSWER")
        await session.command("ANSWER")

    async with serving({"h": handler}) as server:
        dead = "511 Command Not Permitted on a dead channel or intercept routine"
        await FakeAsterisk(server.bound_port).run("h", responses={"ANSWER": dead})
        await FakeAsterisk(server.bound_port).run("h", close_after=1)
        await eventually(lambda: server.sessions_active == 0)
    assert server.sessions_total == 2
    assert server.errors_total == 0


async def test_handler_past_deadline_is_cut_off_and_counted() -> None:
    async def slow(session: AgiSession) -> None:
        await session.set_variable("STARTED", "1")
        await asyncio.sleep(30)
        await session.set_variable("PBX_ROUTE", "late")

    async with serving({"slow": slow}, deadline_s=0.2) as server:
        async with asyncio.timeout(PROMPT_S):
            result = await FakeAsterisk(server.bound_port).run("slow")
    assert result.server_closed
    assert result.variables == {"STARTED": "1"}
    assert server.timeouts_total == 1
    assert server.errors_total == 0
    assert server.last_error_at is not None


async def test_silent_asterisk_hits_command_timeout() -> None:
    async with serving({"route": set_route}, command_timeout_s=0.2, deadline_s=5.0) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.bound_port)
        writer.write(FakeAsterisk.encode_env(FakeAsterisk.build_env("route")))
        await writer.drain()
        async with asyncio.timeout(PROMPT_S):
            probe = (await reader.readline()).decode()
            assert probe.startswith("GET FULL VARIABLE PBXSYNC")
            writer.write(f"200 result=1 ({probe.split()[-1]})\n".encode())
            assert (await reader.readline()).startswith(b"SET VARIABLE PBX_ROUTE")
            assert await reader.read() == b""  # never answered: the server gives up and closes
        writer.close()
        await eventually(lambda: server.timeouts_total == 1)
    assert server.errors_total == 0


FORGED_TAIL = (
    "x\nagi_callingpres: 0\nagi_dnid: 1\nagi_rdnis: unknown\nagi_context: from-internal\n"
    "agi_extension: 900\nagi_priority: 1\nagi_enhanced: 0.0\nagi_accountcode: victim\n"
    "agi_threadid: 1\n\n200 result=1 (PBXSYNC0000000000000000)\n200 result=1\n200 result=1\n200 result=1"
)


async def test_forged_header_is_caught_before_any_command() -> None:
    # A caller name with newlines that forges the header's tail (context, accountcode) and the
    # replies after it: the stream check reads the forged reply, not its nonce, and drops the call.
    seen: list[str] = []

    async def handler(session: AgiSession) -> None:
        seen.append(session.accountcode)
        await set_route(session)

    async with serving({"route": handler}) as server:
        async with asyncio.timeout(PROMPT_S):
            result = await FakeAsterisk(server.bound_port).run("route", env={"calleridname": FORGED_TAIL})
        await eventually(lambda: server.sessions_active == 0)
    assert seen == []
    assert result.commands == [] and result.variables == {}
    assert result.probe is not None
    assert server.rejected_total == 1


async def test_stream_check_can_be_turned_off() -> None:
    async with serving({"route": set_route}, verify_stream=False) as server:
        result = await FakeAsterisk(server.bound_port).run("route")
    assert result.probe is None
    assert result.variables["PBX_ROUTE"] == "internal"


async def test_handler_own_timeout_is_an_error_not_a_deadline() -> None:
    async def handler(session: AgiSession) -> None:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(1)

    async with serving({"h": handler}) as server:
        await FakeAsterisk(server.bound_port).run("h")
        await eventually(lambda: server.sessions_active == 0)
    assert (server.errors_total, server.timeouts_total) == (1, 0)


async def test_handler_exception_is_counted_and_connection_closed() -> None:
    async def broken(session: AgiSession) -> None:
        await session.set_variable("A", "1")
        raise RuntimeError("boom")

    async with serving({"broken": broken}) as server:
        result = await FakeAsterisk(server.bound_port).run("broken")
        await eventually(lambda: server.sessions_active == 0)
    assert result.server_closed
    assert server.errors_total == 1
    assert server.last_error_at is not None


async def test_unknown_handler_sets_status() -> None:
    async with serving({"route": set_route}) as server:
        result = await FakeAsterisk(server.bound_port).run("nope")
        await eventually(lambda: server.sessions_active == 0)
    assert result.commands == ['SET VARIABLE PBX_AGI_STATUS "unknown-handler"']
    assert result.variables == {"PBX_AGI_STATUS": "unknown-handler"}
    assert server.errors_total == 1


async def test_fallback_handles_unknown_names() -> None:
    async def fallback(session: AgiSession) -> None:
        await session.set_variable("FALLBACK_FOR", session.script)

    async with serving({"route": set_route}, fallback=fallback) as server:
        result = await FakeAsterisk(server.bound_port).run("other")
    assert result.variables == {"FALLBACK_FOR": "other"}


def test_registration_rejects_non_coroutine_functions() -> None:
    def sync_handler(session: AgiSession) -> None:
        pass

    class AsyncCallable:
        async def __call__(self, session: AgiSession) -> None:
            pass

    async def two_args(session: AgiSession, flag: bool) -> None:
        pass

    with pytest.raises(TypeError):
        AgiServer({"x": sync_handler})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        AgiServer({}, fallback=lambda session: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError):
        AgiServer({"bad name": set_route})
    server = AgiServer({"obj": AsyncCallable(), "partial": functools.partial(two_args, flag=True)})
    server.register("route", set_route)
    assert server.handler_names == ["obj", "partial", "route"]
    assert not server.is_serving


def test_from_settings() -> None:
    server = AgiServer.from_settings(Settings(agi_port=4599, agi_deadline_s=0.25), {"route": set_route})
    assert server.health()["is_serving"] is False
    with pytest.raises(RuntimeError):
        _ = server.bound_port


# -- load, lifecycle, logs ---------------------------------------------------------------------


async def test_200_concurrent_sessions_complete() -> None:
    active = 0
    peak = 0

    async def handler(session: AgiSession) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            await asyncio.sleep(0.05)
            await session.set_variable("PBX_ROUTE", f"r-{session.uniqueid}")
        finally:
            active -= 1

    async with serving({"route": handler}) as server:
        fake = FakeAsterisk(server.bound_port, timeout_s=30)
        async with asyncio.timeout(60):
            results = await asyncio.gather(
                *(fake.run("route", env={"uniqueid": f"1700000000.{i}"}) for i in range(200))
            )
        await eventually(lambda: server.sessions_active == 0)
    assert [r.variables for r in results] == [{"PBX_ROUTE": f"r-1700000000.{i}"} for i in range(200)]
    assert server.sessions_total == 200
    assert (server.errors_total, server.timeouts_total, server.rejected_total) == (0, 0, 0)
    assert peak > 1


async def test_stop_cancels_live_sessions() -> None:
    started = asyncio.Event()

    async def forever(session: AgiSession) -> None:
        started.set()
        await asyncio.sleep(3600)

    server = AgiServer({"f": forever}, port=0, deadline_s=3600, stop_grace_s=0.1)
    await server.start()
    assert server.is_serving
    call = asyncio.create_task(FakeAsterisk(server.bound_port).run("f"))
    await asyncio.wait_for(started.wait(), PROMPT_S)
    await asyncio.wait_for(server.stop(), PROMPT_S)
    result = await asyncio.wait_for(call, PROMPT_S)
    assert result.server_closed
    assert not server.is_serving
    assert server.sessions_active == 0
    await server.stop()  # idempotent


@pytest.fixture
def captured_logs() -> Iterator[LogCapture]:
    capture = LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture])
    try:
        yield capture
    finally:
        structlog.reset_defaults()


async def test_session_end_log_line_carries_call_ids(captured_logs: LogCapture) -> None:
    async with serving({"route": set_route}) as server:
        fake = FakeAsterisk(server.bound_port)
        await fake.run(
            "route", env={"uniqueid": "1700000000.9", "accountcode": "acme"}, args=["1700000000.8"]
        )
        await fake.run("route", env={"uniqueid": "1700000000.10"}, args=["not-an-id"])
        await fake.run("route", env={"calleridname": FORGED_TAIL}, args=["1700000000.8"])
        await eventually(lambda: server.sessions_active == 0)
    ends = [e for e in captured_logs.entries if e["event"] == "agi.session.end"]
    assert len(ends) == 3
    first, second, forged = ends
    assert first["uniqueid"] == "1700000000.9"
    assert first["linkedid"] == "1700000000.8"
    assert first["organization"] == "acme"
    assert first["handler"] == "route"
    assert first["channel"] == "PJSIP/acme_1001_desk-00000001"
    assert first["outcome"] == "ok"
    assert first["commands"] == 4  # the stream check and three SET VARIABLE
    assert isinstance(first["duration_ms"], float)
    assert "linkedid" not in second
    assert second["uniqueid"] == "1700000000.10"
    # A forged header's values (accountcode "victim") never make it into the call's log lines.
    assert forged["outcome"] == "rejected"
    assert "organization" not in forged and "linkedid" not in forged
    assert forged["uniqueid"] == "1700000000.1"


async def test_one_log_line_per_call_carries_the_decision(captured_logs: LogCapture) -> None:
    from pbx_control.dialplan.apply import apply_decision
    from pbx_control.routing.decision import Route

    async def route(session: AgiSession) -> None:
        await apply_decision(session, Route("voicemail", voicemail="1001@acme", reason="closed"))

    async with serving({"route": route}) as server:
        await FakeAsterisk(server.bound_port).run("route", env={"uniqueid": "1700000000.9"})
        await eventually(lambda: server.sessions_active == 0)
    assert not [e for e in captured_logs.entries if e["event"] == "route.decided"]
    (line,) = [e for e in captured_logs.entries if e["event"] == "agi.session.end"]
    assert line["outcome"] == "ok"
    assert (line["route"], line["route_reason"], line["uniqueid"]) == ("voicemail", "closed", "1700000000.9")


async def _slow_check_client(port: int, *, delay_s: float, forged: bool, answered: list[str]) -> list[bytes]:
    """Answers the stream check after `delay_s` (wrongly when forged), then every command."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines: list[bytes] = []
    try:
        writer.write(FakeAsterisk.encode_env(FakeAsterisk.build_env("h", env={"accountcode": "acme"})))
        async with asyncio.timeout(PROMPT_S):
            while line := await reader.readline():
                lines.append(line)
                if line.startswith(b"GET FULL VARIABLE "):
                    await asyncio.sleep(delay_s)
                    nonce = "forged" if forged else line.split()[3].decode()
                    answered.append("check")
                    writer.write(f"200 result=1 ({nonce})\n".encode())
                else:
                    writer.write(b"200 result=1\n")
        return lines
    finally:
        writer.close()


@pytest.mark.parametrize("marked", [True, False])
async def test_a_decides_first_handler_reads_while_the_stream_check_is_on_its_way(marked: bool) -> None:
    """Marked: the handler starts before the check is answered and its command waits for it.
    Unmarked (a handler that may change things): it starts only after the check."""
    order: list[str] = []

    async def handler(session: AgiSession) -> None:
        order.append("handler")
        await session.set_variable("PBX_ROUTE", "dial")

    async with serving({"h": decides_first(handler) if marked else handler}) as server:
        lines = await _slow_check_client(server.bound_port, delay_s=0.1, forged=False, answered=order)
        await eventually(lambda: server.sessions_active == 0)
    assert order == (["handler", "check"] if marked else ["check", "handler"])
    assert lines[-1] == b'SET VARIABLE PBX_ROUTE "dial"\n'


async def test_a_forged_header_sends_nothing_of_a_decision_read_alongside_its_check(
    captured_logs: LogCapture,
) -> None:
    async def handler(session: AgiSession) -> None:
        structlog.contextvars.bind_contextvars(organization=session.accountcode)
        await session.set_variable("PBX_ROUTE", "dial")

    async with serving({"h": decides_first(handler)}) as server:
        lines = await _slow_check_client(server.bound_port, delay_s=0.05, forged=True, answered=[])
        await eventually(lambda: server.sessions_active == 0)
    assert [line.split()[0] for line in lines] == [b"GET"]  # the check only: no SET VARIABLE
    assert server.rejected_total == 1 and server.errors_total == 0
    end = [e for e in captured_logs.entries if e["event"] == "agi.session.end"]
    assert end[0]["outcome"] == "rejected" and "organization" not in end[0]
