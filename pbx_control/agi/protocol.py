"""FastAGI wire format: pure functions, no I/O.

Facts taken from Asterisk's res/res_agi.c (Asterisk 22) that shape this module:

* The env header is ``key: value\\n`` lines (``"%s: %s\\n"``) ended by one empty line; Asterisk itself
  writes ``agi_network``/``agi_network_script`` first, then ``agi_request`` ... ``agi_arg_N``.
* Asterisk reads each command with ``fgets`` into an 8192-byte buffer (``AGI_BUF_LEN``). A longer
  line is NOT rejected: the first 8191 bytes run as one command and the rest is read as the NEXT
  command. So a long caller-controlled value could smuggle a command past the quoting; every line
  we send is therefore capped (:data:`MAX_COMMAND_BYTES`) and quoted arguments are truncated.
* ``parse_args`` splits on space and tab only; ``"`` toggles quoting (and starts a word when it comes
  after whitespace); ``\\`` makes the next character literal (inside or outside quotes). There is no
  other escape: ``\\n`` is just ``n``. A carriage return is an ordinary character (it would end up
  inside the last argument), and NUL truncates the line (``strlen``). Words started by a quote skip
  the ``MAX_ARGS`` (128) check, so we also cap the number of words.
* Command names are matched case-insensitively; responses are ``<code> <text>`` lines, except the
  ``520-`` usage block, which ends with a ``520 End of proper usage.`` line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pbx_control.agi.errors import AgiProtocolError

MAX_ENV_BYTES = 64 * 1024
MAX_ENV_LINES = 200
# Asterisk's fgets reads at most AGI_BUF_LEN - 1 = 8191 bytes per command, newline included.
# We stay well below that.
MAX_COMMAND_BYTES = 8000
# Default byte budget of one quoted argument (quotes included); two of them fit in a command.
MAX_ARG_BYTES = 3900
MAX_COMMAND_WORDS = 32
MAX_VARIABLE_NAME_LEN = 80

_ENV_KEY_RE = re.compile(r"agi_[a-z0-9_]{1,64}")
_VARIABLE_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A word that parse_args returns unchanged when sent bare (no space, tab, quote, backslash, controls).
_BARE_WORD_RE = re.compile(r"[A-Za-z0-9_.:/@()+,=#*-]{1,256}")
# C0 controls, DEL, C1 controls (NEL among them) and lone surrogates (not encodable as UTF-8).
_UNSAFE_CHAR_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_RESPONSE_RE = re.compile(r"(\d{3})([ -])(.*)", re.DOTALL)
_RESULT_RE = re.compile(r"result=(-?\d+)(?: \((.*)\))?(?: (.*))?", re.DOTALL)
_PJSIP_CHANNEL_RE = re.compile(r"PJSIP/(.+)-[0-9a-fA-F]{8,}")
# An optional systemname prefix (asterisk.conf `systemname`), then digits and dots.
_ASTERISK_ID_RE = re.compile(r"(?:[A-Za-z0-9_]{1,32}-)?[0-9][0-9.]{0,63}")

# Dialplan functions that may be set or read besides plain variables. Names are constants in our
# code, never built from caller data; the allow-list keeps it that way.
ALLOWED_FUNCTION_NAMES = frozenset(
    {
        "CALLERID(name)",
        "CALLERID(num)",
        "CALLERID(all)",
        "CALLERID(name-pres)",
        "CALLERID(num-pres)",
        "CONNECTEDLINE(name)",
        "CONNECTEDLINE(num)",
        "CDR(userfield)",
        "CHANNEL(language)",
        "CHANNEL(musicclass)",
        "CHANNEL(accountcode)",
        "CHANNEL(linkedid)",
    }
)


def parse_env(block: bytes) -> dict[str, str]:
    """Parse the FastAGI env header (``key: value`` lines ending with an empty line).

    Strict on purpose: the block must end with the empty line, stay within :data:`MAX_ENV_BYTES`
    and :data:`MAX_ENV_LINES`, and every line must be ``agi_<name>: value`` with no key repeated
    (a repeated key would mean a value carried a newline into the header). Anything else raises
    :class:`AgiProtocolError`, and the connection is dropped.
    """
    if len(block) > MAX_ENV_BYTES:
        raise AgiProtocolError(f"env header larger than {MAX_ENV_BYTES} bytes")
    if not block.endswith(b"\n\n"):
        raise AgiProtocolError("env header not terminated by an empty line")
    lines = block[:-2].split(b"\n")
    if len(lines) > MAX_ENV_LINES:
        raise AgiProtocolError(f"env header has more than {MAX_ENV_LINES} lines")
    env: dict[str, str] = {}
    for number, raw in enumerate(lines, start=1):
        text = raw.decode("utf-8", errors="replace").removesuffix("\r")
        key, sep, value = text.partition(":")
        if not sep or not _ENV_KEY_RE.fullmatch(key):
            raise AgiProtocolError(f"env line {number} is not 'agi_<name>: value'")
        if key in env:
            raise AgiProtocolError(f"env key {key} repeated")
        env[key] = value.removeprefix(" ")
    return env


@dataclass(frozen=True, slots=True)
class AgiResponse:
    """One reply from Asterisk. ``result``/``data`` are only filled for 200 replies.

    ``200 result=1 (value) endpos=0`` gives ``code=200, result=1, data="value", extra="endpos=0"``.
    """

    code: int
    result: int | None
    data: str | None
    raw: str
    extra: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200


def parse_response_line(text: str) -> AgiResponse:
    """Parse a reply (one line, or a ``520-`` block / continued value joined with ``\\n``)."""
    match = _RESPONSE_RE.fullmatch(text)
    if match is None:
        raise AgiProtocolError(f"not an AGI response: {text[:80]!r}")
    code = int(match.group(1))
    rest = match.group(3)
    if code != 200:
        return AgiResponse(code=code, result=None, data=None, raw=text)
    result_match = _RESULT_RE.fullmatch(rest)
    if result_match is None:
        raise AgiProtocolError(f"200 response without result=: {text[:80]!r}")
    return AgiResponse(
        code=200,
        result=int(result_match.group(1)),
        data=result_match.group(2),
        raw=text,
        extra=result_match.group(3) or "",
    )


def sanitize_text(value: str) -> str:
    """Replace control characters (newline, CR, NUL, DEL, C1) by spaces and lone surrogates by U+FFFD."""
    if not _UNSAFE_CHAR_RE.search(value):
        return value
    return _UNSAFE_CHAR_RE.sub(lambda m: "\ufffd" if m.group() >= "\ud800" else " ", value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def quote_agi_arg(value: str, *, max_bytes: int = MAX_ARG_BYTES) -> str:
    """Turn ANY string into exactly one inert AGI argument: ``"..."`` with ``\\`` and ``"`` escaped.

    Control characters become spaces (a newline would end the command line; CR and NUL are not
    stripped by Asterisk either), and the result is truncated, on a character boundary, so that it
    takes at most ``max_bytes`` bytes of UTF-8 (see the module docstring for why length matters).
    Asterisk's parse_args gives back ``sanitize_text(value)`` (possibly truncated).
    """
    if not isinstance(value, str):
        raise TypeError(f"AGI argument must be str, not {type(value).__name__}")
    if max_bytes < 2:
        raise ValueError("max_bytes must leave room for the quotes")
    escaped = _escape(sanitize_text(value))
    quoted = f'"{escaped}"'
    # A UTF-8 character takes at most 4 bytes, so short strings skip the encode.
    if len(quoted) * 4 <= max_bytes or len(quoted.encode("utf-8")) <= max_bytes:
        return quoted
    budget = max_bytes - 2
    kept: list[str] = []
    for char in sanitize_text(value):
        piece = _escape(char)
        size = len(piece.encode("utf-8"))
        if size > budget:
            break
        kept.append(piece)
        budget -= size
    return '"' + "".join(kept) + '"'


def format_command(*words: str) -> bytes:
    """Encode one command line: plain tokens go bare (``SET VARIABLE X``), anything else quoted.

    Raises ``ValueError`` for an empty command, too many words, or a line longer than
    :data:`MAX_COMMAND_BYTES`; such a line is never sent (Asterisk would split it into two commands).
    """
    if not words:
        raise ValueError("empty AGI command")
    if len(words) > MAX_COMMAND_WORDS:
        raise ValueError(f"AGI command with more than {MAX_COMMAND_WORDS} words")
    # No per-word truncation here: a generic command that does not fit is refused, not altered.
    parts = [
        word if _BARE_WORD_RE.fullmatch(word) else quote_agi_arg(word, max_bytes=MAX_COMMAND_BYTES)
        for word in words
    ]
    return encode_command_line(" ".join(parts))


def encode_command_line(line: str) -> bytes:
    """Encode an already formatted command and check it is one short line."""
    data = line.encode("utf-8") + b"\n"
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"AGI command longer than {MAX_COMMAND_BYTES} bytes")
    if data.count(b"\n") != 1 or b"\r" in data or b"\0" in data:
        raise ValueError("AGI command contains a control character")
    return data


def is_valid_variable_name(name: str) -> bool:
    """A plain channel variable name, or one of :data:`ALLOWED_FUNCTION_NAMES`."""
    if name in ALLOWED_FUNCTION_NAMES:
        return True
    return len(name) <= MAX_VARIABLE_NAME_LEN and _VARIABLE_RE.fullmatch(name) is not None


def check_variable_name(name: str) -> str:
    """Return ``name`` or raise ``ValueError`` when it is not a name we allow."""
    if not isinstance(name, str) or not is_valid_variable_name(name):
        raise ValueError(f"invalid AGI variable name: {name!r}")
    return name


def script_name(raw: str) -> str:
    """Handler name from ``agi_network_script``: ``/route?x=1`` -> ``route``."""
    return raw.split("?", 1)[0].strip("/")


def endpoint_from_channel(channel: str) -> str | None:
    """``PJSIP/acme_1001_desk-0000002a`` -> ``acme_1001_desk``; None for other technologies."""
    match = _PJSIP_CHANNEL_RE.fullmatch(channel)
    return match.group(1) if match else None


def is_asterisk_id(value: str) -> bool:
    """Looks like an Asterisk uniqueid/linkedid (``1700000000.42``, or ``pbx1-1700000000.42`` with a
    systemname)."""
    return _ASTERISK_ID_RE.fullmatch(value) is not None
