"""One FastAGI conversation: the parsed env plus strictly sequential command/response exchange."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Mapping
from types import MappingProxyType

from pbx_control.agi import protocol
from pbx_control.agi.errors import (
    AgiCommandError,
    AgiHangup,
    AgiProtocolError,
    AgiTimeout,
)
from pbx_control.agi.protocol import AgiResponse

DEFAULT_COMMAND_TIMEOUT_S = 2.0
# A 520 usage text is a few dozen lines; GET VARIABLE values are < 1 KiB in Asterisk.
_MAX_RESPONSE_LINES = 200
_MAX_RESPONSE_CHARS = 16 * 1024


def _set_line(name: str, value: str) -> bytes:
    """``SET VARIABLE name "value"``; the name must pass :func:`protocol.check_variable_name`."""
    protocol.check_variable_name(name)
    return protocol.encode_command_line(f"SET VARIABLE {name} {protocol.quote_agi_arg(value)}")


def _unknown_to_empty(value: str) -> str:
    # Asterisk writes the literal word "unknown" when the caller id number or name is not set.
    return "" if value == "unknown" else value


class AgiSession:
    """A FastAGI session as seen by a handler.

    Commands are serialised (AGI is strict request/response), each bounded by ``command_timeout_s``.
    ``SET VARIABLE``'s reply is read before the next command is sent (a failure raises there), and
    a handler's last word, ``set_variables_and_end``, waits for no reply at all: the session ends
    as soon as its decision is written.
    After a ``HANGUP`` line, a 511 reply or EOF from Asterisk the session is hung up and every
    command raises :class:`AgiHangup`. After a timeout or a garbled reply the stream may be out of
    step with Asterisk, so later commands raise :class:`AgiProtocolError` instead of guessing.
    """

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        env: Mapping[str, str],
        *,
        command_timeout_s: float = DEFAULT_COMMAND_TIMEOUT_S,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._env: Mapping[str, str] = MappingProxyType(dict(env))
        self._command_timeout_s = command_timeout_s
        self._lock = asyncio.Lock()
        self._hung_up = False
        self._out_of_sync = False
        self._unread: bytes | None = None  # the command whose reply is still to be read
        self._finished = False  # set_variables_and_end: our half of the connection is closed
        # While the server's stream check is on its way: the handler's commands wait for it.
        self._gate: asyncio.Future[bool] | None = None
        self._on_pass: Callable[[], None] | None = None
        self.commands_sent = 0
        """Commands sent so far (the server's stream check included)."""
        args: list[str] = []
        while (arg := self._env.get(f"agi_arg_{len(args) + 1}")) is not None:
            args.append(arg)
        self._args = tuple(args)

    # -- env ------------------------------------------------------------------------------------

    @property
    def env(self) -> Mapping[str, str]:
        """The raw env header, read-only (``agi_channel``, ``agi_uniqueid``, ...)."""
        return self._env

    @property
    def script(self) -> str:
        """Handler name: ``agi_network_script`` without leading slash and query string."""
        return protocol.script_name(self._env.get("agi_network_script", ""))

    @property
    def args(self) -> list[str]:
        """``agi_arg_1``, ``agi_arg_2``, ... (a copy)."""
        return list(self._args)

    @property
    def uniqueid(self) -> str:
        return self._env.get("agi_uniqueid", "")

    @property
    def linkedid(self) -> str | None:
        """``agi_arg_1`` when it looks like an Asterisk id (our dialplan passes ``${CHANNEL(linkedid)}``)."""
        if self._args and protocol.is_asterisk_id(self._args[0]):
            return self._args[0]
        return None

    @property
    def channel(self) -> str:
        return self._env.get("agi_channel", "")

    @property
    def endpoint(self) -> str | None:
        """PJSIP endpoint of the channel (``PJSIP/acme_1001_desk-0000002a`` -> ``acme_1001_desk``)."""
        return protocol.endpoint_from_channel(self.channel)

    @property
    def extension(self) -> str:
        return self._env.get("agi_extension", "")

    @property
    def context(self) -> str:
        return self._env.get("agi_context", "")

    @property
    def accountcode(self) -> str:
        return self._env.get("agi_accountcode", "")

    @property
    def callerid_num(self) -> str:
        return _unknown_to_empty(self._env.get("agi_callerid", ""))

    @property
    def callerid_name(self) -> str:
        return _unknown_to_empty(self._env.get("agi_calleridname", ""))

    @property
    def hung_up(self) -> bool:
        return self._hung_up

    # -- commands -------------------------------------------------------------------------------

    async def command(self, *words: str) -> AgiResponse:
        """Send one command; words that are not plain tokens are quoted with ``quote_agi_arg``.

        Returns the reply whatever its code, except 511 (dead channel), which raises AgiHangup.
        A command that would not fit in one Asterisk line raises ``ValueError`` and is not sent.
        Never pass caller data to ``EXEC``: the quoting makes it one AGI argument, but the
        application still splits its data on commas (and expands ``${}`` with AGIEXECFULL=yes).
        """
        return await self._execute(protocol.format_command(*words))

    async def set_variable(self, name: str, value: str | int) -> None:
        """``SET VARIABLE name "value"``. The name must pass :func:`protocol.check_variable_name`."""
        await self._send_unread(_set_line(name, value if isinstance(value, str) else str(value)))

    async def set_variables_and_end(self, variables: Mapping[str, str]) -> None:
        """The handler's last word: one ``SET VARIABLE`` per variable, in order, all in one write,
        and our half of the connection closed, without waiting for a reply.

        Asterisk reads commands with fgets on a socket it polls: lines sent together wait in its
        buffer until the socket is readable again, which our end of file makes it at once, so it
        runs them all, then ends the AGI (AGISTATUS=SUCCESS). The replies are read and dropped
        until Asterisk closes (wait_closed_by_asterisk): no reset ever reaches it."""
        lines = [_set_line(name, value) for name, value in variables.items()]
        await self._through_gate()
        await self._exchange(b"".join(lines), False, read_reply=False, end=True)
        self.commands_sent += len(lines) - 1

    async def wait_closed_by_asterisk(self, timeout_s: float) -> None:
        """After set_variables_and_end: read (and drop) the replies until Asterisk closes, at
        most `timeout_s`."""
        if not self._finished:
            return
        try:
            async with asyncio.timeout(timeout_s):
                while await self._reader.read(4096):
                    pass
        except (TimeoutError, OSError):
            pass

    async def get_variable(self, name: str) -> str | None:
        """``GET VARIABLE name``: the value, or None when the variable is not set."""
        protocol.check_variable_name(name)
        response = await self._execute(protocol.encode_command_line(f"GET VARIABLE {name}"), value_reply=True)
        if not response.ok:
            raise AgiCommandError(response)
        if response.result != 1:
            return None
        return response.data or ""

    async def verbose(self, message: str, level: int = 1) -> None:
        """``VERBOSE "message" level`` (shows in the Asterisk console at that verbosity)."""
        if not 1 <= level <= 4:
            raise ValueError("verbose level must be 1..4")
        line = protocol.encode_command_line(f"VERBOSE {protocol.quote_agi_arg(message)} {level}")
        response = await self._execute(line)
        if not response.ok:
            raise AgiCommandError(response)

    async def verify_stream(self) -> None:
        """Check that the header really ended where we think, before any command changes the channel.

        Asterisk writes ``agi_calleridname`` (and the other caller-controlled values) raw into the
        header. A name containing ``"\\n...\\n\\n"`` can forge the rest of the header (context,
        accountcode, ...) and even fake replies after it; the real tail of the header then sits in
        the stream. So the first command is ``GET FULL VARIABLE <nonce>``: Asterisk echoes the random
        nonce, and anything else read first (leftover header, forged reply) raises AgiProtocolError.
        """
        nonce = f"PBXSYNC{secrets.token_hex(8)}"
        response = await self._execute(protocol.encode_command_line(f"GET FULL VARIABLE {nonce}"), check=True)
        if response.code != 200 or response.result != 1 or response.data != nonce or response.extra:
            self._out_of_sync = True
            raise AgiProtocolError("stream out of step after the header (forged header?)")

    def hold_commands_until(self, check: asyncio.Future[bool], on_pass: Callable[[], None]) -> None:
        """Commands wait for `check` (the stream check run alongside the handler): sent when it
        gives True (`on_pass` runs first, in the handler's task), refused with AgiProtocolError
        when it gives False or fails."""
        self._gate, self._on_pass = check, on_pass

    async def _through_gate(self) -> None:
        gate = self._gate
        if gate is None:
            return
        try:
            passed = await asyncio.shield(gate)
        except Exception:
            passed = False
        if not passed:
            raise AgiProtocolError("the stream check failed: no command is sent")
        self._gate = None
        if self._on_pass is not None:
            self._on_pass()

    # -- wire -----------------------------------------------------------------------------------

    async def _execute(self, line: bytes, *, value_reply: bool = False, check: bool = False) -> AgiResponse:
        if not check:
            await self._through_gate()
        response = await self._exchange(line, value_reply, read_reply=True)
        assert response is not None
        self._check_reply(response, raise_failure=False)
        return response

    async def _send_unread(self, line: bytes) -> None:
        """Send `line`, leaving its reply to be read before the next command (or never)."""
        await self._through_gate()
        await self._exchange(line, False, read_reply=False)

    async def _exchange(
        self, line: bytes, value_reply: bool, *, read_reply: bool, end: bool = False
    ) -> AgiResponse | None:
        async with self._lock:
            if self._hung_up:
                raise AgiHangup("channel already hung up")
            if self._finished:
                raise AgiProtocolError("the session has ended (set_variables_and_end)")
            if self._out_of_sync:
                raise AgiProtocolError("session out of step with Asterisk after an earlier failure")
            # Stays set if anything below fails or is cancelled midway.
            self._out_of_sync = True
            current = line
            try:
                async with asyncio.timeout(self._command_timeout_s):
                    if self._unread is not None:
                        current = self._unread
                        earlier = await self._read_response(False)
                        self._unread = None
                        if earlier.code == 511 or not earlier.ok:
                            self._out_of_sync = False  # in step: the reply was read
                            self._check_reply(earlier)
                        current = line
                    self._writer.write(line)
                    if end:
                        self._finished = True
                        self._writer.write_eof()
                    await self._writer.drain()
                    self.commands_sent += 1
                    response = await self._read_response(value_reply) if read_reply else None
            except TimeoutError as exc:
                waited = self._command_timeout_s
                raise AgiTimeout(f"no AGI reply within {waited}s to {current[:40]!r}") from exc
            except ConnectionError as exc:
                self._hung_up = True
                raise AgiHangup("connection to Asterisk lost") from exc
            if not read_reply and not end:
                self._unread = line
            self._out_of_sync = False
        return response

    def _check_reply(self, response: AgiResponse, *, raise_failure: bool = True) -> None:
        if response.code == 511:
            # "Command Not Permitted on a dead channel": the hangup without a HANGUP line
            # (AGISIGHUP=no).
            self._hung_up = True
            raise AgiHangup(response.raw)
        if raise_failure and not response.ok:
            raise AgiCommandError(response)

    async def _read_line(self) -> str:
        try:
            raw = await self._reader.readline()
        except ValueError as exc:  # line longer than the stream limit
            raise AgiProtocolError("AGI reply line too long") from exc
        if not raw.endswith(b"\n"):
            self._hung_up = True
            raise AgiHangup("connection closed by Asterisk")
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def _read_response(self, value_reply: bool) -> AgiResponse:
        line = await self._read_line()
        if line == "HANGUP":
            # Asterisk sends it between commands once it sees the hangup, so it may stand where
            # the reply to this command was expected. The command still runs in Asterisk (SET
            # VARIABLE is allowed on a dead channel), but the call is over: stop here.
            self._hung_up = True
            raise AgiHangup("HANGUP received from Asterisk")
        lines = [line]
        if line.startswith("520-"):
            while not lines[-1].startswith("520 "):
                self._check_response_size(lines)
                lines.append(await self._read_line())
        elif value_reply and line.startswith("200 result=1 (") and not line.endswith(")"):
            # The value itself contained newlines: it continues until a line ending with ')'.
            while not lines[-1].endswith(")"):
                self._check_response_size(lines)
                lines.append(await self._read_line())
        return protocol.parse_response_line("\n".join(lines))

    @staticmethod
    def _check_response_size(lines: list[str]) -> None:
        if len(lines) >= _MAX_RESPONSE_LINES or sum(map(len, lines)) > _MAX_RESPONSE_CHARS:
            raise AgiProtocolError("AGI reply too long")
