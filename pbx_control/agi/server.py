"""Asyncio FastAGI server: one task per connection, bounded at every step.

Every connection is bounded: the header must arrive within ``header_timeout_s``, the handler must
finish within ``deadline_s``, and the writer is always closed. A peer that sends garbage, closes
early or stalls only ever holds its own task. When a handler fails or runs late we just close the
connection: the dialplan then sees its variables (``PBX_ROUTE``) unset and takes its fallback.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from pbx_control.agi import protocol
from pbx_control.agi.errors import AgiHangup, AgiProtocolError, AgiTimeout
from pbx_control.agi.session import DEFAULT_COMMAND_TIMEOUT_S, AgiSession
from pbx_control.config import Settings
from pbx_control.logs import get_logger

Handler = Callable[[AgiSession], Awaitable[None]]
# Called once per connection with its outcome ("ok", "rejected", ...) and the seconds from accept to
# the handler's end (the decision time as the server sees it, before the close). Keep it cheap.
SessionObserver = Callable[[str, float], None]

DEFAULT_HEADER_TIMEOUT_S = 2.0
DEFAULT_BACKLOG = 1024
_CLOSE_TIMEOUT_S = 1.0
_HANDLER_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _check_handler(name: str, handler: object) -> Handler:
    # Only coroutine functions (or objects with an async __call__): a plain function would run
    # blocking work on the loop or hand back something that is not awaitable.
    is_async = inspect.iscoroutinefunction(handler) or (
        callable(handler)
        and not inspect.isclass(handler)
        and inspect.iscoroutinefunction(type(handler).__call__)
    )
    if not is_async:
        raise TypeError(f"AGI handler {name!r} must be an async function, got {handler!r}")
    return handler  # type: ignore[return-value]  # checked just above: an async callable


def decides_first(handler: Handler) -> Handler:
    """Mark a handler whose work before its first command only reads (a routing decision): the
    server runs it while its stream check (AgiSession.verify_stream) is still on its way, so the
    decision's queries and the check's round trip overlap. A forged header's decision is never
    sent. Not for handlers that change anything (AMI actions, rows) before their first command."""
    setattr(handler, "decides_first", True)  # noqa: B010
    return handler


def _only_hangups(exc: BaseException) -> bool:
    """True for AgiHangup, or an exception group (from a TaskGroup) made only of AgiHangups."""
    if isinstance(exc, AgiHangup):
        return True
    if isinstance(exc, BaseExceptionGroup):
        _match, rest = exc.split(AgiHangup)
        return rest is None
    return False


class AgiServer:
    """FastAGI server dispatching ``agi://host:port/<name>`` to ``handlers[name]``.

    Counters (``sessions_total`` ... ``last_error_at``) feed the health endpoint; ``health()``
    returns them as one dict. A connection whose header is rejected counts in ``rejected_total``,
    not in ``errors_total``, so a port scan does not look like a failing router.
    """

    def __init__(
        self,
        handlers: Mapping[str, Handler],
        *,
        host: str = "127.0.0.1",
        port: int = 4573,
        deadline_s: float = 0.5,
        fallback: Handler | None = None,
        header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S,
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
        backlog: int = DEFAULT_BACKLOG,
        stop_grace_s: float | None = None,
        verify_stream: bool = True,
        on_session_end: SessionObserver | None = None,
    ) -> None:
        self._handlers: dict[str, Handler] = {}
        for name, handler in handlers.items():
            self.register(name, handler)
        self._fallback = _check_handler("<fallback>", fallback) if fallback is not None else None
        self._host = host
        self._port = port
        self._deadline_s = deadline_s
        self._header_timeout_s = header_timeout_s
        self._command_timeout_s = command_timeout_s
        self._backlog = backlog
        self._verify_stream = verify_stream
        self.on_session_end = on_session_end
        """Per-connection hook (benchmarks, metrics): ``(outcome, seconds)``; may be set later."""
        self._stop_grace_s = deadline_s + 1.0 if stop_grace_s is None else stop_grace_s
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._log = get_logger("pbx_control.agi")
        self._sessions_total = 0
        self._sessions_active = 0
        self._errors_total = 0
        self._timeouts_total = 0
        self._rejected_total = 0
        self._last_error_at: datetime | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, handlers: Mapping[str, Handler], *, fallback: Handler | None = None
    ) -> AgiServer:
        return cls(
            handlers,
            host=settings.agi_host,
            port=settings.agi_port,
            deadline_s=settings.agi_deadline_s,
            fallback=fallback,
        )

    def register(self, name: str, handler: Handler) -> None:
        """Add (or replace) the handler for ``agi://.../<name>``; must be an async function."""
        if not _HANDLER_NAME_RE.fullmatch(name):
            raise ValueError(f"invalid AGI handler name: {name!r}")
        self._handlers[name] = _check_handler(name, handler)

    @property
    def handler_names(self) -> list[str]:
        return sorted(self._handlers)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._server is not None:
            raise RuntimeError("AGI server already started")
        self._server = await asyncio.start_server(
            self._serve_connection,
            self._host,
            self._port,
            backlog=self._backlog,
            # Bounds readuntil() for the header (the separator may add 2 bytes) and reply lines.
            limit=protocol.MAX_ENV_BYTES - 2,
        )
        self._log.info("agi.listening", host=self._host, port=self.bound_port)

    async def stop(self) -> None:
        """Stop listening, give live sessions ``stop_grace_s`` to finish, then cancel them."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = set(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=self._stop_grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        await server.wait_closed()
        self._log.info("agi.stopped")

    async def __aenter__(self) -> AgiServer:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    @property
    def bound_port(self) -> int:
        """The port actually listened on (useful with ``port=0``)."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("AGI server is not listening")
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def is_serving(self) -> bool:
        return self._server is not None and self._server.is_serving()

    # -- health ---------------------------------------------------------------------------------

    @property
    def sessions_total(self) -> int:
        """Connections accepted since start (including rejected ones)."""
        return self._sessions_total

    @property
    def sessions_active(self) -> int:
        return self._sessions_active

    @property
    def errors_total(self) -> int:
        """Handler exceptions, unknown handler names, and server bugs."""
        return self._errors_total

    @property
    def timeouts_total(self) -> int:
        """Handlers cut off at the deadline or waiting too long for one Asterisk reply."""
        return self._timeouts_total

    @property
    def rejected_total(self) -> int:
        """Connections closed because the header was garbage, too big, incomplete or too slow."""
        return self._rejected_total

    @property
    def last_error_at(self) -> datetime | None:
        """UTC time of the last error or timeout."""
        return self._last_error_at

    def health(self) -> dict[str, Any]:
        return {
            "is_serving": self.is_serving,
            "sessions_total": self._sessions_total,
            "sessions_active": self._sessions_active,
            "errors_total": self._errors_total,
            "timeouts_total": self._timeouts_total,
            "rejected_total": self._rejected_total,
            "last_error_at": self._last_error_at.isoformat() if self._last_error_at else None,
        }

    # -- per connection -------------------------------------------------------------------------

    def _note_error(self, *, timeout: bool = False) -> None:
        if timeout:
            self._timeouts_total += 1
        else:
            self._errors_total += 1
        self._last_error_at = datetime.now(UTC)

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._sessions_total += 1
        self._sessions_active += 1
        # perf_counter, not loop.time(): uvloop's clock moves in whole milliseconds per iteration.
        started = time.perf_counter()
        outcome = "error"
        details: dict[str, Any] = {}
        sessions: list[AgiSession] = []
        try:
            outcome = await self._run(reader, writer, details, sessions)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except Exception:
            self._note_error()
            self._log.exception("agi.server.bug")
        finally:
            # The session's time: to its last command written (Asterisk acts on it from there).
            elapsed = time.perf_counter() - started
            if self.on_session_end is not None:
                try:
                    self.on_session_end(outcome, elapsed)
                except Exception:
                    self._log.exception("agi.observer.error")
            try:
                for session in sessions:
                    await session.wait_closed_by_asterisk(_CLOSE_TIMEOUT_S)
                await self._close(writer)
            finally:
                self._sessions_active -= 1
                if task is not None:
                    self._tasks.discard(task)
                emit = self._log.warning if outcome in ("rejected", "unknown-handler") else self._log.info
                emit("agi.session.end", outcome=outcome, duration_ms=round(elapsed * 1000, 2), **details)

    async def _run(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        details: dict[str, Any],
        sessions: list[AgiSession],
    ) -> str:
        try:
            async with asyncio.timeout(self._header_timeout_s):
                block = await reader.readuntil(b"\n\n")
            env = protocol.parse_env(block)
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            AgiProtocolError,
            OSError,
        ) as exc:
            self._rejected_total += 1
            details["reason"] = _reject_reason(exc)
            details["peer"] = _peer(writer)
            return "rejected"

        session = AgiSession(reader, writer, env, command_timeout_s=self._command_timeout_s)
        sessions.append(session)
        script = session.script
        # Runs in the connection's own task, so the bindings die with it. These three come before
        # any caller-controlled line in Asterisk's header, so they cannot be forged (see
        # AgiSession.verify_stream); the organization and linkedid are bound once the stream checks.
        structlog.contextvars.bind_contextvars(
            uniqueid=session.uniqueid, channel=session.channel, handler=script
        )
        handler = self._handlers.get(script, self._fallback)
        known = handler is not None
        if handler is None:
            self._note_error()
            handler = _report_unknown_handler
        deadline = asyncio.timeout(self._deadline_s)
        try:
            async with deadline:
                if self._verify_stream and getattr(handler, "decides_first", False):
                    if not await self._handle_while_checking(session, handler, details):
                        return "rejected"
                else:
                    if self._verify_stream and not await self._stream_in_step(session, details):
                        return "rejected"
                    _bind_call_ids(session)
                    await handler(session)
        except AgiTimeout as exc:
            self._note_error(timeout=True)
            self._log.warning("agi.handler.command_timeout", error=str(exc))
            outcome = "command-timeout"
        except TimeoutError:
            if deadline.expired():
                self._note_error(timeout=True)
                self._log.warning("agi.handler.deadline", deadline_s=self._deadline_s)
                outcome = "timeout"
            else:  # the handler's own timeout (a query, say) escaped it
                outcome = self._handler_failed()
        except Exception as exc:
            outcome = "hangup" if _only_hangups(exc) else self._handler_failed()
        else:
            outcome = "hangup" if session.hung_up else ("ok" if known else "unknown-handler")
        finally:
            details["commands"] = session.commands_sent
        return outcome

    def _handler_failed(self) -> str:
        """Count and log the exception being handled; call from an except block."""
        self._note_error()
        self._log.exception("agi.handler.error")
        return "error"

    async def _stream_in_step(self, session: AgiSession, details: dict[str, Any]) -> bool:
        try:
            await session.verify_stream()
        except AgiProtocolError as exc:
            self._rejected_total += 1
            details["reason"] = f"stream-check-failed: {exc}"
            return False
        return True

    async def _handle_while_checking(
        self, session: AgiSession, handler: Handler, details: dict[str, Any]
    ) -> bool:
        """A `decides_first` handler reads its decision while the stream check's round trip is
        on its way; its commands wait for the check (AgiSession.hold_commands_until). False:
        the check failed, nothing was sent, whatever the handler did or raised."""
        check = asyncio.ensure_future(self._stream_in_step(session, details))
        session.hold_commands_until(check, lambda: _bind_call_ids(session))
        try:
            await handler(session)
        except asyncio.CancelledError:
            check.cancel()
            raise
        except Exception:
            if not await check:
                return _forget_header_ids()
            raise
        if not await check:
            return _forget_header_ids()
        _bind_call_ids(session)
        return True

    @staticmethod
    async def _close(writer: asyncio.StreamWriter) -> None:
        try:
            writer.close()
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await writer.wait_closed()
        except (OSError, TimeoutError):
            writer.transport.abort()


def _forget_header_ids() -> bool:
    """A header that failed its check: what the handler bound from it (organization, route) does
    not reach the session's log line. False, for the caller to return."""
    structlog.contextvars.unbind_contextvars("organization", "linkedid", "route", "route_reason")
    return False


def _bind_call_ids(session: AgiSession) -> None:
    ids: dict[str, str] = {}
    if (linkedid := session.linkedid) is not None:
        ids["linkedid"] = linkedid
    if session.accountcode:
        ids["organization"] = session.accountcode
    if ids:
        structlog.contextvars.bind_contextvars(**ids)


async def _report_unknown_handler(session: AgiSession) -> None:
    await session.set_variables_and_end({"PBX_AGI_STATUS": "unknown-handler"})


def _reject_reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "header-timeout"
    if isinstance(exc, asyncio.IncompleteReadError):
        return "header-truncated" if exc.partial else "closed-before-header"
    if isinstance(exc, asyncio.LimitOverrunError):
        return "header-too-large"
    if isinstance(exc, AgiProtocolError):
        return f"bad-header: {exc}"
    return f"connection-error: {type(exc).__name__}"


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    if isinstance(peer, tuple) and len(peer) >= 2:
        return f"{peer[0]}:{peer[1]}"
    return str(peer)
