"""Test helpers: :class:`FakeAsterisk` plays Asterisk's side of FastAGI over a real socket.

Typical use in a handler test::

    async with AgiServer({"route": route}, port=0) as server:
        result = await FakeAsterisk(server.bound_port).run(
            "route", env={"callerid": "1001", "extension": "1002"}, args=["1700000000.1"]
        )
    assert result.variables["PBX_ROUTE"] == "internal"

Commands are split with :func:`parse_agi_args`, a faithful re-implementation of ``parse_args`` in
Asterisk's res_agi.c, so a badly quoted argument shows up here as it would in Asterisk (e.g. a
SET VARIABLE with the wrong number of words gets the real 520 usage reply).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Asterisk's limits (res_agi.c): MAX_ARGS words, AGI_BUF_LEN - 1 bytes per command line.
ASTERISK_MAX_ARGS = 128
ASTERISK_MAX_LINE_BYTES = 8191

DEFAULT_ENV: dict[str, str] = {
    "agi_network": "yes",
    "agi_network_script": "route",
    "agi_request": "agi://127.0.0.1:4573/route",
    "agi_channel": "PJSIP/acme_1001_desk-00000001",
    "agi_language": "en",
    "agi_type": "PJSIP",
    "agi_uniqueid": "1700000000.1",
    "agi_version": "22.0.0",
    "agi_callerid": "1001",
    "agi_calleridname": "Desk 1001",
    "agi_callingpres": "0",
    "agi_callingani2": "0",
    "agi_callington": "0",
    "agi_callingtns": "0",
    "agi_dnid": "1002",
    "agi_rdnis": "unknown",
    "agi_context": "from-internal",
    "agi_extension": "1002",
    "agi_priority": "1",
    "agi_enhanced": "0.0",
    "agi_accountcode": "acme",
    "agi_threadid": "140000000000000",
}

# Commands Asterisk still runs after the hangup (agi_command.dead == 1 in res_agi.c).
_DEAD_SAFE = (
    ("ASYNCAGI", "BREAK"),
    ("DATABASE",),
    ("EXEC",),
    ("GET", "FULL", "VARIABLE"),
    ("GET", "VARIABLE"),
    ("NOOP",),
    ("SET", "VARIABLE"),
    ("VERBOSE",),
    ("SPEECH", "DESTROY"),
    ("SPEECH", "UNLOAD", "GRAMMAR"),
)
_SUBSTITUTION_RE = re.compile(r"\$\{([A-Za-z0-9_()-]+)\}")
# The server's stream check (AgiSession.verify_stream) is answered but kept out of `commands`.
_PROBE_PREFIX = "GET FULL VARIABLE PBXSYNC"
_DEAD_REPLY = "511 Command Not Permitted on a dead channel or intercept routine"
_USAGE_REPLY = "520-Invalid command syntax.  Proper usage follows:\n{usage}\n520 End of proper usage."


def parse_agi_args(line: str, max_args: int = ASTERISK_MAX_ARGS) -> list[str]:
    """Split a command line exactly like Asterisk's ``parse_args`` (res_agi.c) does.

    Space and tab separate words unless quoted or escaped; ``"`` toggles quoting and, right after
    whitespace, starts a word (even an empty one); ``\\`` makes the next character literal. A NUL
    ends the line (C string). Like Asterisk, words started by a quote skip the ``max_args`` check.
    """
    line = line.split("\0", 1)[0]
    buf: list[str] = []
    starts: list[int] = []
    quoted = escaped = False
    whitespace = True
    for char in line:
        if char == '"' and not escaped:
            quoted = not quoted
            if quoted and whitespace:
                starts.append(len(buf))
                whitespace = False
            escaped = False
            continue
        if char in " \t" and not quoted and not escaped:
            whitespace = True
            buf.append("\0")
            continue
        if char == "\\" and not escaped:
            escaped = True
            continue
        if whitespace:
            if len(starts) >= max_args - 1:
                continue  # "Too many arguments, truncating": the character is dropped
            starts.append(len(buf))
            whitespace = False
        buf.append(char)
        escaped = False
    buf.append("\0")
    text = "".join(buf)
    return [text[start : text.index("\0", start)] for start in starts]


@dataclass
class FakeAsteriskResult:
    """What one fake call saw."""

    commands: list[str] = field(default_factory=list)
    """Every command line received, in order, without the trailing newline (minus the probe)."""
    probe: str | None = None
    """The server's stream check (``GET FULL VARIABLE PBXSYNC...``), if it sent one first."""
    variables: dict[str, str] = field(default_factory=dict)
    """Variables set with SET VARIABLE (as Asterisk would store them; last write wins)."""
    verbose: list[str] = field(default_factory=list)
    """Messages sent with VERBOSE."""
    hangup_sent: bool = False
    server_closed: bool = False
    """True when the server ended the conversation (EOF/reset), False when we closed first."""
    protocol_errors: list[str] = field(default_factory=list)
    """Lines Asterisk would mangle (too long, CR inside, more than MAX_ARGS words)."""

    @property
    def argv(self) -> list[list[str]]:
        """Each command split as Asterisk would split it."""
        return [parse_agi_args(line) for line in self.commands]


class FakeAsterisk:
    """An asyncio client that connects to an AGI server and answers its commands like Asterisk.

    Replies: SET VARIABLE, GET VARIABLE and VERBOSE behave as in Asterisk (including the 520
    usage reply for a wrong word count); any other command gets ``200 result=1`` unless
    ``responses`` maps its first word(s), e.g. ``{"EXEC": "200 result=0", "DATABASE GET":
    "200 result=1 (x)"}``. After a HANGUP, commands Asterisk refuses on a dead channel get 511.
    """

    def __init__(self, port: int, host: str = "127.0.0.1", *, timeout_s: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s

    @staticmethod
    def build_env(
        script: str = "route",
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
    ) -> dict[str, str]:
        """DEFAULT_ENV for ``script``, updated with ``env`` (keys with or without ``agi_``) and args."""
        full = dict(DEFAULT_ENV)
        full["agi_network_script"] = script
        full["agi_request"] = f"agi://127.0.0.1:4573/{script}"
        for key, value in (env or {}).items():
            full[key if key.startswith("agi_") else f"agi_{key}"] = value
        for number, arg in enumerate(args, start=1):
            full[f"agi_arg_{number}"] = arg
        return full

    @staticmethod
    def encode_env(env: Mapping[str, str]) -> bytes:
        return "".join(f"{key}: {value}\n" for key, value in env.items()).encode() + b"\n"

    async def run(
        self,
        script: str = "route",
        *,
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        variables: Mapping[str, str] | None = None,
        responses: Mapping[str, str] | None = None,
        hangup_after: int | None = None,
        close_after: int | None = None,
    ) -> FakeAsteriskResult:
        """Play one call and return what the server did.

        ``variables`` are the channel variables GET VARIABLE can read (SET VARIABLE adds to them).
        ``hangup_after=N`` sends ``HANGUP`` after the N-th reply (0: right after the header).
        ``close_after=N`` closes the connection after the N-th reply (0: right after the header).
        N counts the handler's commands: the server's initial stream check is not counted.
        Raises ``TimeoutError`` if the server has not closed the connection within ``timeout_s``.
        """
        result = FakeAsteriskResult()
        channel_vars = dict(variables or {})
        reader, writer = await asyncio.open_connection(self.host, self.port)
        try:
            async with asyncio.timeout(self.timeout_s):
                writer.write(self.encode_env(self.build_env(script, env, args)))
                if hangup_after == 0:
                    writer.write(b"HANGUP\n")
                    result.hangup_sent = True
                await writer.drain()
                answered = 0
                while close_after is None or answered < close_after:
                    raw = await reader.readline()
                    if not raw.endswith(b"\n"):
                        result.server_closed = True
                        break
                    line = raw[:-1].decode("utf-8", errors="replace")
                    self._check_line(raw, line, result)
                    reply = self._reply(line, channel_vars, result, responses or {})
                    if result.probe is None and not result.commands and line.startswith(_PROBE_PREFIX):
                        result.probe = line
                        writer.write(reply.encode() + b"\n")
                        await writer.drain()
                        continue
                    result.commands.append(line)
                    answered += 1
                    writer.write(reply.encode() + b"\n")
                    if hangup_after is not None and answered == hangup_after and not result.hangup_sent:
                        writer.write(b"HANGUP\n")
                        result.hangup_sent = True
                    await writer.drain()
        except ConnectionError:
            result.server_closed = True
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        return result

    @staticmethod
    def _check_line(raw: bytes, line: str, result: FakeAsteriskResult) -> None:
        if len(raw) > ASTERISK_MAX_LINE_BYTES:
            result.protocol_errors.append(f"line of {len(raw)} bytes would be split by Asterisk")
        if "\r" in line or "\0" in line:
            result.protocol_errors.append(f"control character in {line[:60]!r}")
        if len(parse_agi_args(line, max_args=10**6)) >= ASTERISK_MAX_ARGS:
            result.protocol_errors.append("too many words")

    @staticmethod
    def _reply(
        line: str,
        channel_vars: dict[str, str],
        result: FakeAsteriskResult,
        responses: Mapping[str, str],
    ) -> str:
        argv = parse_agi_args(line)
        words = tuple(word.upper() for word in argv)
        if result.hangup_sent and not any(words[: len(c)] == c for c in _DEAD_SAFE):
            return _DEAD_REPLY
        for size in (3, 2, 1):
            if len(words) >= size and (custom := responses.get(" ".join(words[:size]))) is not None:
                return custom
        if words[:2] == ("SET", "VARIABLE"):
            if len(argv) != 4:
                return _USAGE_REPLY.format(usage=" Usage: SET VARIABLE <variablename> <value>")
            channel_vars[argv[2]] = argv[3]
            result.variables[argv[2]] = argv[3]
            return "200 result=1"
        if words[:2] == ("GET", "VARIABLE"):
            if len(argv) != 3:
                return _USAGE_REPLY.format(usage=" Usage: GET VARIABLE <variablename>")
            value = channel_vars.get(argv[2])
            return "200 result=0" if value is None else f"200 result=1 ({value})"
        if words[:3] == ("GET", "FULL", "VARIABLE"):
            if len(argv) not in (4, 5):
                return _USAGE_REPLY.format(usage=" Usage: GET FULL VARIABLE <expression> [<channel>]")
            value = _SUBSTITUTION_RE.sub(lambda m: channel_vars.get(m.group(1), ""), argv[3])
            return f"200 result=1 ({value})"
        if words[:1] == ("VERBOSE",):
            if len(argv) < 2:
                return _USAGE_REPLY.format(usage=" Usage: VERBOSE <message> <level>")
            result.verbose.append(argv[1])
            return "200 result=1"
        if not words:
            return "510 Invalid or unknown command"
        return "200 result=1"
