"""FastAGI wire format: env parsing, reply parsing, argument quoting, names."""

from __future__ import annotations

import random

import pytest

from pbx_control.agi.errors import AgiProtocolError
from pbx_control.agi.protocol import (
    MAX_ARG_BYTES,
    MAX_COMMAND_BYTES,
    MAX_ENV_BYTES,
    check_variable_name,
    encode_command_line,
    endpoint_from_channel,
    format_command,
    is_asterisk_id,
    is_valid_variable_name,
    parse_env,
    parse_response_line,
    quote_agi_arg,
    sanitize_text,
    script_name,
)
from pbx_control.agi.testing import FakeAsterisk, parse_agi_args

pytestmark = [pytest.mark.unit, pytest.mark.agi]

GOOD_ENV = (
    b"agi_network: yes\n"
    b"agi_network_script: route\n"
    b"agi_request: agi://127.0.0.1:4573/route\n"
    b"agi_channel: PJSIP/acme_1001_desk-00000001\n"
    b"agi_uniqueid: 1700000000.1\n"
    b"agi_callerid: 1001\n"
    b"agi_calleridname: unknown\n"
    b"agi_context: from-internal\n"
    b"agi_extension: 1002\n"
    b"agi_accountcode: \n"
    b"agi_arg_1: 1700000000.1\n"
    b"agi_arg_2: a: b\n"
    b"\n"
)


# -- env ---------------------------------------------------------------------------------------


def test_parse_env_good() -> None:
    env = parse_env(GOOD_ENV)
    assert env["agi_network_script"] == "route"
    assert env["agi_channel"] == "PJSIP/acme_1001_desk-00000001"
    assert env["agi_accountcode"] == ""
    assert env["agi_arg_2"] == "a: b"  # only the first ": " separates
    assert len(env) == 12


def test_parse_env_matches_fake_asterisk_encoding() -> None:
    env = FakeAsterisk.build_env("route", {"calleridname": "Zoë ☎"}, ["1.2"])
    assert parse_env(FakeAsterisk.encode_env(env)) == env


def test_parse_env_non_utf8_is_replaced_not_fatal() -> None:
    env = parse_env(b"agi_calleridname: caf\xe9\n\n")
    assert env["agi_calleridname"] == "caf\ufffd"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"agi_network: yes\n", "not terminated"),
        (b"agi_network: yes\nagi_channel: x", "not terminated"),
        (b"", "not terminated"),
        (b"\n\n", "not 'agi_<name>: value'"),
        (b"GET / HTTP/1.1\n\n", "not 'agi_<name>: value'"),
        (b"agi_network yes\n\n", "not 'agi_<name>: value'"),
        (b"agi_a: 1\nEXEC Dial PJSIP/x\n\n", "not 'agi_<name>: value'"),
        (b"agi_a: 1\nagi_a: 2\n\n", "repeated"),
        (b"agi_x: " + b"a" * MAX_ENV_BYTES + b"\n\n", "larger than"),
        (b"".join(b"agi_k%d: v\n" % i for i in range(201)) + b"\n", "more than 200 lines"),
    ],
)
def test_parse_env_rejects(block: bytes, message: str) -> None:
    with pytest.raises(AgiProtocolError, match=message):
        parse_env(block)


def test_parse_env_200_lines_is_fine() -> None:
    block = b"".join(b"agi_k%d: v\n" % i for i in range(200)) + b"\n"
    assert len(parse_env(block)) == 200


# -- replies -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "extra"),
    [
        ("200 result=1", 200, 1, None, ""),
        ("200 result=0", 200, 0, None, ""),
        ("200 result=-1", 200, -1, None, ""),
        ("200 result=1 (hello world)", 200, 1, "hello world", ""),
        ("200 result=1 ()", 200, 1, "", ""),
        ("200 result=1 (a (b) c)", 200, 1, "a (b) c", ""),
        ("200 result=1 (line1\nline2)", 200, 1, "line1\nline2", ""),
        ("200 result=0 (timeout) endpos=1234", 200, 0, "timeout", "endpos=1234"),
        ("200 result=0 endpos=0", 200, 0, None, "endpos=0"),
        ("510 Invalid or unknown command", 510, None, None, ""),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, None, None, ""),
        (
            "520-Invalid command syntax.  Proper usage follows:\nUsage: x\n520 End of proper usage.",
            520,
            None,
            None,
            "",
        ),
    ],
)
def test_parse_response_line(line: str, code: int, result: int | None, data: str | None, extra: str) -> None:
    response = parse_response_line(line)
    assert (response.code, response.result, response.data, response.extra) == (code, result, data, extra)
    assert response.raw == line
    assert response.ok is (code == 200)


@pytest.mark.parametrize("line", ["", "HANGUP", "hello", "20 result=1", "200 nothing"])
def test_parse_response_line_rejects(line: str) -> None:
    with pytest.raises(AgiProtocolError):
        parse_response_line(line)


# -- Asterisk's parse_args (our re-implementation, checked against the C logic by hand) ---------


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ("SET VARIABLE X y", ["SET", "VARIABLE", "X", "y"]),
        ("SET  VARIABLE\tX   y ", ["SET", "VARIABLE", "X", "y"]),
        ('SET VARIABLE X "a b"', ["SET", "VARIABLE", "X", "a b"]),
        ('SET VARIABLE X ""', ["SET", "VARIABLE", "X", ""]),
        ('a"b c"d', ["ab cd"]),  # a quote mid-word does not start a new word
        ('"a"b', ["ab"]),
        (r'"a\"b"', ['a"b']),
        (r'"a\\b"', ["a\\b"]),
        (r"a\ b", ["a b"]),  # backslash escapes a space outside quotes too
        (r"\n", ["n"]),  # no C escapes: \n is just n
        ('"a;b&c"', ["a;b&c"]),
        ('"unterminated', ["unterminated"]),
        ("a\rb", ["a\rb"]),  # CR is an ordinary character to Asterisk
        ("a\0b c", ["a"]),  # NUL ends the C string
        ("", []),
    ],
)
def test_parse_agi_args_reference(line: str, argv: list[str]) -> None:
    assert parse_agi_args(line) == argv


def test_parse_agi_args_truncates_bare_words_at_max_args() -> None:
    assert len(parse_agi_args(" ".join(["w"] * 200))) == 127


# -- quoting -----------------------------------------------------------------------------------

QUOTE_CASES = [
    ("", ""),
    ("plain", "plain"),
    ("a b", "a b"),
    ('say "hi"', 'say "hi"'),
    ("back\\slash", "back\\slash"),
    ("trailing\\", "trailing\\"),
    ('\\"', '\\"'),
    ("a & b; c", "a & b; c"),
    ("$(rm -rf /) `x` ${FOO}", "$(rm -rf /) `x` ${FOO}"),
    ("tab\there", "tab here"),
    ("line1\nline2", "line1 line2"),
    ("cr\r\nlf", "cr  lf"),
    ("nul\0byte", "nul byte"),
    ("del\x7fnel\x85", "del nel "),
    ('Eve"\nEXEC Dial PJSIP/x', 'Eve" EXEC Dial PJSIP/x'),
    ('"\n510 fake\nSET VARIABLE PBX_ROUTE "evil', '" 510 fake SET VARIABLE PBX_ROUTE "evil'),
    ("Дмитрий Петров", "Дмитрий Петров"),
    ("山田 太郎", "山田 太郎"),
    ("Zoë ☎ 📞", "Zoë ☎ 📞"),
    ("\u2028sep", "\u2028sep"),
    ("bad \ud800 surrogate", "bad \ufffd surrogate"),
]


@pytest.mark.parametrize(("value", "expected"), QUOTE_CASES)
def test_quote_agi_arg_is_one_inert_argument(value: str, expected: str) -> None:
    quoted = quote_agi_arg(value)
    assert "\n" not in quoted and "\r" not in quoted and "\0" not in quoted
    line = f"SET VARIABLE PBX_CALLER_NAME {quoted}"
    assert parse_agi_args(line) == ["SET", "VARIABLE", "PBX_CALLER_NAME", expected]
    # Also as a middle argument, followed by another word.
    assert parse_agi_args(f"VERBOSE {quoted} 1") == ["VERBOSE", expected, "1"]
    encode_command_line(line)  # a single, sendable line


def test_quote_agi_arg_fuzz_round_trip() -> None:
    rng = random.Random(4573)
    alphabet = " \t\n\r\0\"\\'&;|$`(){}[]<>#%*?!~^-_=+,./:@abcXYZ019é中\u0085\u2028"
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        quoted = quote_agi_arg(value)
        assert "\n" not in quoted
        assert parse_agi_args(f"SET VARIABLE X {quoted}") == ["SET", "VARIABLE", "X", sanitize_text(value)]


@pytest.mark.parametrize("unit", ["a", "\\", '"', "é", "中", "📞", "a\\", '"é'])
def test_quote_agi_arg_truncates_to_byte_budget(unit: str) -> None:
    value = unit * 5000
    quoted = quote_agi_arg(value)
    assert len(quoted.encode()) <= MAX_ARG_BYTES
    (argument,) = parse_agi_args(quoted)
    assert value.startswith(argument)
    assert len(argument.encode()) > MAX_ARG_BYTES // 4  # truncated, not emptied
    small = quote_agi_arg(value, max_bytes=11)
    assert len(small.encode()) <= 11 and value.startswith(parse_agi_args(small)[0])


def test_quote_agi_arg_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        quote_agi_arg(5)  # type: ignore[arg-type]


def test_long_caller_data_cannot_spill_into_a_second_command() -> None:
    # Asterisk splits lines longer than 8191 bytes into two commands; padding must not get there.
    evil = "x" * 9000 + "\nEXEC Dial PJSIP/evil"
    line = encode_command_line(f"SET VARIABLE PBX_CALLER_NAME {quote_agi_arg(evil)}")
    assert len(line) <= MAX_COMMAND_BYTES and line.count(b"\n") == 1
    assert len(parse_agi_args(line.decode().rstrip("\n"))) == 4


# -- commands and names ------------------------------------------------------------------------


def test_format_command_quotes_only_what_needs_it() -> None:
    assert format_command("GET", "VARIABLE", "CALLERID(name)") == b"GET VARIABLE CALLERID(name)\n"
    assert format_command("EXEC", "Playback", "a b") == b'EXEC Playback "a b"\n'
    assert format_command("VERBOSE", "", "1") == b'VERBOSE "" 1\n'
    assert format_command("X", 'a"\nb') == b'X "a\\" b"\n'


@pytest.mark.parametrize(
    "words",
    [(), ("w",) * 33, ("EXEC", "a" * 4000, "b" * 4000, "c")],
)
def test_format_command_refuses(words: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        format_command(*words)


def test_encode_command_line_refuses_controls() -> None:
    for bad in ("a\nb", "a\rb", "a\0b"):
        with pytest.raises(ValueError):
            encode_command_line(bad)


@pytest.mark.parametrize("name", ["PBX_ROUTE", "_INHERIT", "__X1", "a", "CALLERID(name)", "CDR(userfield)"])
def test_variable_names_accepted(name: str) -> None:
    assert is_valid_variable_name(name)
    assert check_variable_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["", "1ABC", "A B", "A-B", "X\nY", 'X"', "SHELL(rm -rf /)", "CALLERID(NAME)", "A" * 81, "DB(x/y)"],
)
def test_variable_names_rejected(name: str) -> None:
    assert not is_valid_variable_name(name)
    with pytest.raises(ValueError):
        check_variable_name(name)


@pytest.mark.parametrize(
    ("channel", "endpoint"),
    [
        ("PJSIP/acme_1001_desk-0000002a", "acme_1001_desk"),
        ("PJSIP/acme-trunk-1-00000001", "acme-trunk-1"),
        ("PJSIP/x-1234abcdef", "x"),
        ("Local/1001@from-internal-00000001;1", None),
        ("SIP/x-00000001", None),
        ("PJSIP/noseq", None),
        ("", None),
    ],
)
def test_endpoint_from_channel(channel: str, endpoint: str | None) -> None:
    assert endpoint_from_channel(channel) == endpoint


@pytest.mark.parametrize(
    ("raw", "name"), [("route", "route"), ("/route", "route"), ("route?x=1", "route"), ("", "")]
)
def test_script_name(raw: str, name: str) -> None:
    assert script_name(raw) == name


def test_is_asterisk_id() -> None:
    assert is_asterisk_id("1700000000.42")
    assert is_asterisk_id("1700000000")
    assert is_asterisk_id("test15000-1795608576.0")
    assert not is_asterisk_id("a b-1700000000.1")
    assert not is_asterisk_id("")
    assert not is_asterisk_id("abc")
    assert not is_asterisk_id("1.2; DROP")
