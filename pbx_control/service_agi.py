"""The FastAGI server in a process of its own (`PBX_AGI_PROCESS=own`, the default).

Why: one event loop that also answers HTTP, fans events out to WebSocket clients and parses the AMI
event stream makes a call's routing wait, now and then, behind that work (issue 14: the decision's
p99 was twelve times its p50). The child has its own event loop and its own asyncpg pool, and runs
nothing but the FastAGI handlers the features declare (pbx_control.call_paths: it imports no HTTP
server, API schema or AMI client, so it stays small).

What the handlers know comes from PostgreSQL only: every decision reads indexed rows at each call
(routing, reachability, policy, groups, meetings), none keeps a copy of the data in memory, so a
change the API makes in the parent applies to the next call with nothing to invalidate. The only
in-memory state is the handlers' own (the meeting PIN throttle), which only the FastAGI process
uses. "Now" is the system clock in both processes. The one thing that lives only in the parent is
the live call model (AMI): a handler that needs it (`move_here`, *88) asks the parent over a Unix
socket (`LiveQueryServer`, the features' `live_queries`).

Parent and child: the parent (`AgiProcess`) starts `python -m pbx_control.service_agi` (through
pbx_control.kernel.entry), sends the Settings as one JSON line on its stdin and keeps stdin open;
EOF (the parent stopping, or dying) stops the child, which also asks the kernel to kill it when
the parent dies (PR_SET_PDEATHSIG).
The child reports on a pipe of its own: `{"ready": ...}` once it listens, its counters every
second, and (when the parent sets `on_session_end`) each session's outcome and duration. A child
that dies is started again after a pause that doubles from 0.5 s to 10 s. Its logs are the same
structlog JSON lines on the same stderr, with `"process": "agi"`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import structlog

from pbx_control import logs
from pbx_control.config import Settings
from pbx_control.kernel import entry
from pbx_control.kernel.loop import run_main, settle_heap
from pbx_control.logs import get_logger

log = get_logger("pbx_control.agi.process")

LiveQuery = Callable[[Any], Awaitable[Any]]
SessionObserver = Callable[[str, float], None]
READY_TIMEOUT_S = 30.0
LIVE_TIMEOUT_S = 0.3
RESTART_FIRST_S = 0.5
RESTART_MAX_S = 10.0
STATS_EVERY_S = 0.2
_COUNTERS = ("sessions_total", "sessions_active", "errors_total", "timeouts_total", "rejected_total")


# -- the parent's side ----------------------------------------------------------------------------


class LiveQueryServer:
    """Answers the FastAGI process's questions about the live call model (one JSON line each)."""

    def __init__(self, queries: Mapping[str, LiveQuery]) -> None:
        self.queries = dict(queries)
        self._server: asyncio.Server | None = None
        self._dir: Path | None = None
        self.path: str | None = None

    async def start(self) -> str:
        self._dir = Path(tempfile.mkdtemp(prefix="pbx-live-"))  # mode 0700: ours alone
        self.path = str(self._dir / "live.sock")
        self._server = await asyncio.start_unix_server(self._serve, self.path)
        return self.path

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), LIVE_TIMEOUT_S * 3)
            request = json.loads(line)
            query = self.queries.get(str(request.get("q")))
            result = await query(request.get("arg")) if query is not None else None
            writer.write(json.dumps({"result": result}).encode() + b"\n")
            await writer.drain()
        except Exception as exc:
            log.warning("agi.live_query_failed", error=type(exc).__name__)
        finally:
            writer.close()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


class AgiProcess:
    """Starts, watches and stops the FastAGI child. Its counters (as AgiServer's) are the child's,
    as of its last report (at most a second old)."""

    def __init__(self, settings: Settings, live_socket: str | None = None) -> None:
        self.settings = settings
        self.live_socket = live_socket
        self._proc: asyncio.subprocess.Process | None = None
        self._stats: dict[str, Any] = {}
        self._ready = False
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None
        self._observer: SessionObserver | None = None
        self._first_ready: asyncio.Future[None] | None = None
        self.restarts = 0

    # AgiServer's health counters, as the child last reported them
    @property
    def is_serving(self) -> bool:
        return self._ready and self._proc is not None and self._proc.returncode is None

    def __getattr__(self, name: str) -> Any:
        if name in _COUNTERS:
            return int(self._stats.get(name, 0))
        raise AttributeError(name)

    @property
    def bound_port(self) -> int:
        return self.settings.agi_port

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def on_session_end(self) -> SessionObserver | None:
        return self._observer

    @on_session_end.setter
    def on_session_end(self, observer: SessionObserver | None) -> None:
        """Per-session hook (the bench): the child then reports each session's end."""
        self._observer = observer
        self._tell("observe" if observer is not None else "quiet")

    def _tell(self, line: str) -> None:
        proc = self._proc
        if proc is not None and proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(line.encode() + b"\n")

    async def start(self, *, wait: bool = True) -> None:
        """Start the child; with `wait`, return once it listens (else call `ready()` later)."""
        self._first_ready = asyncio.get_running_loop().create_future()
        self._supervisor = asyncio.create_task(self._supervise(self._first_ready))
        if wait:
            await self.ready()

    async def ready(self) -> None:
        """Until the first child listens (READY_TIMEOUT_S at most: then it is stopped, and raises)."""
        assert self._first_ready is not None, "start() first"
        try:
            await asyncio.wait_for(asyncio.shield(self._first_ready), READY_TIMEOUT_S)
        except BaseException:
            await self.stop()
            raise

    async def _spawn(self) -> asyncio.StreamReader:
        read_fd, write_fd = os.pipe()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *entry.command("pbx_control.service_agi"),
                stdin=asyncio.subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        config = {
            "settings": self.settings.to_json(),
            "report_fd": write_fd,
            "live_socket": self.live_socket,
            "parent_pid": os.getpid(),
        }
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps(config).encode() + b"\n")
        if self._observer is not None:
            self._tell("observe")
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 20)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(read_fd, "rb", buffering=0)
        )
        return reader

    async def _supervise(self, ready: asyncio.Future[None]) -> None:
        delay = RESTART_FIRST_S
        while not self._stopping:
            started = time.monotonic()
            try:
                reader = await self._spawn()
                await self._follow(reader, ready)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("agi.process_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._ready = False
            proc = self._proc
            code = await proc.wait() if proc is not None else None
            if self._stopping:
                return
            if time.monotonic() - started > 30:
                delay = RESTART_FIRST_S
            log.error("agi.process_exited", returncode=code, restart_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(RESTART_MAX_S, delay * 2)
            self.restarts += 1

    async def _follow(self, reader: asyncio.StreamReader, ready: asyncio.Future[None]) -> None:
        while line := await reader.readline():
            report = json.loads(line)
            if "session" in report:
                if self._observer is not None:
                    outcome, seconds = report["session"]
                    self._observer(str(outcome), float(seconds))
                continue
            self._stats = report.get("stats", self._stats)
            if report.get("ready"):
                self._ready = True
                log.info("agi.process_ready", pid=self.pid, restarts=self.restarts)
                if not ready.done():
                    ready.set_result(None)

    async def stop(self) -> None:
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()  # EOF: the child stops its server and exits
            try:
                await asyncio.wait_for(proc.wait(), self.settings.agi_deadline_s + 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        self._ready = False


# -- the child's side ------------------------------------------------------------------------------


def _die_with_parent(parent_pid: int) -> None:
    """Linux: SIGKILL when the parent dies (a SIGKILLed service leaves no orphan answering calls)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # it died before prctl took effect
        os._exit(1)


class _LiveClient:
    def __init__(self, path: str) -> None:
        self.path = path

    async def ask(self, name: str, arg: Any) -> Any:
        """The parent's answer, or None when it cannot tell in time."""
        try:
            async with asyncio.timeout(LIVE_TIMEOUT_S):
                reader, writer = await asyncio.open_unix_connection(self.path)
                try:
                    writer.write(json.dumps({"q": name, "arg": arg}).encode() + b"\n")
                    await writer.drain()
                    answer = json.loads(await reader.readline())
                finally:
                    writer.close()
            return answer.get("result") if isinstance(answer, dict) else None
        except Exception as exc:
            log.warning("agi.live_query_unanswered", query=name, error=type(exc).__name__)
            return None


async def _child(config: Mapping[str, Any]) -> None:
    from pbx_control.agi import AgiServer
    from pbx_control.call_paths import agi_handlers
    from pbx_control.db.pool import create_pool
    from pbx_control.dialplan.sync import Dialplan
    from pbx_control.feature import Runtime

    settings = Settings.from_json(str(config["settings"]))
    report = int(config["report_fd"])
    os.set_blocking(report, False)  # a parent slow to read never stalls the call path

    def send(message: Mapping[str, Any]) -> None:
        # One line per write (under PIPE_BUF: all of it or nothing); a full pipe drops the report.
        with contextlib.suppress(OSError, ValueError):
            os.write(report, (json.dumps(message) + "\n").encode())

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    pool = await create_pool(settings.database_url)
    live = _LiveClient(str(config["live_socket"])) if config.get("live_socket") else None
    rt = Runtime(settings, pool, Dialplan(pool, settings.asterisk_etc, None), agi_pool=pool)
    rt.ask_live = live.ask if live is not None else None
    server = AgiServer(
        agi_handlers(rt), host=settings.agi_host, port=settings.agi_port, deadline_s=settings.agi_deadline_s
    )
    await server.start()
    settle_heap()  # a full collection walks only what calls made since: it pauses a decision less

    def stats() -> dict[str, Any]:
        return {name: getattr(server, name) for name in _COUNTERS}

    send({"ready": True, "stats": stats()})
    log.info("agi.process_started", pid=os.getpid(), agi_port=settings.agi_port)

    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    async def commands() -> None:
        while line := await stdin.readline():
            if line.strip() == b"observe":
                server.on_session_end = lambda outcome, s: send({"session": [outcome, s]})
            elif line.strip() == b"quiet":
                server.on_session_end = None
        stop.set()  # EOF: the parent is stopping (or gone)

    async def tick() -> None:
        while True:
            await asyncio.sleep(STATS_EVERY_S)
            send({"stats": stats()})

    tasks = [asyncio.create_task(commands()), asyncio.create_task(tick())]
    try:
        await stop.wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.stop()
        await pool.close()
        log.info("agi.process_stopped")


def _set_priority(nice: int) -> None:
    """Settings.agi_nice: the call path first when the cores are busy."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    try:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
    except PermissionError:
        log.warning("agi.priority_unchanged", wanted=nice, nice=before, why="no CAP_SYS_NICE")
        return
    if nice != before:
        log.info("agi.priority_set", nice=nice, before=before)


def _first_line(fd: int) -> bytes:
    """One line from fd, byte by byte: nothing after it is taken from the pipe (the commands that
    follow are read by the event loop)."""
    line = b""
    while not line.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
    return line


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which stops us
    config = json.loads(_first_line(0))
    _die_with_parent(int(config["parent_pid"]))
    settings = Settings.from_json(str(config["settings"]))
    logs.configure(settings.log_level)
    structlog.contextvars.bind_contextvars(process="agi")
    _set_priority(settings.agi_nice)
    run_main(_child(config), settings.event_loop)


if __name__ == "__main__":
    main()
