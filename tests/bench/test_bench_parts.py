"""The bench's small pure parts: the fake Asterisk's answers, wrk's output, percentiles."""

from __future__ import annotations

import pytest

from bench.agi_client import Call, header, reply, route_of
from bench.http_load import parse
from bench.results import percentile, summary_ms

pytestmark = [pytest.mark.unit, pytest.mark.bench]

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:38080/api/v1/presence
  2 threads and 50 connections
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.50ms
     99%    1.02s
  21345 requests in 10.01s, 1.2MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2132.40
"""


def test_the_fake_asterisk_answers_like_asterisk() -> None:
    assert reply(b"GET FULL VARIABLE PBXSYNC0123\n") == b"200 result=1 (PBXSYNC0123)\n"
    assert reply(b"GET VARIABLE FOO\n") == b"200 result=0\n"
    assert reply(b'SET VARIABLE PBX_DIAL "PJSIP/x"\n') == b"200 result=1\n"


@pytest.mark.parametrize(
    ("line", "route"),
    [
        (b'SET VARIABLE PBX_ROUTE "dial"\n', "dial"),
        (b'SET VARIABLE "PBX_ROUTE" "external"\n', "external"),  # pyst2 quotes the name
        (b"SET VARIABLE PBX_ROUTE busy\n", "busy"),
        (b'SET VARIABLE PBX_ROUTE_X "dial"\n', None),
        (b'SET VARIABLE PBX_DIAL "PJSIP/a"\n', None),
        # the service's one packed variable (pbx_control/dialplan/contract.py pack())
        (b'SET VARIABLE PBX_PACK "PBX_DIAL:UEpTSVAvYQ==|PBX_ROUTE:ZGlhbA=="\n', "dial"),
        (b'SET VARIABLE PBX_PACK "PBX_ROUTE:YnVzeQ=="\n', "busy"),
        (b'SET VARIABLE PBX_PACK "PBX_DIAL:UEpTSVAvYQ=="\n', None),
    ],
)
def test_route_of(line: bytes, route: str | None) -> None:
    assert route_of(line) == route


def test_header_is_what_asterisk_sends_for_a_device_call() -> None:
    text = header(Call("acme", "acme_1001", "1001", "1002", "1700000000.1"), 4573).decode()
    assert text.endswith("\n\n") and text.count("\n\n") == 1
    env = dict(line.split(": ", 1) for line in text.strip().splitlines())
    assert env["agi_network_script"] == "route"
    assert env["agi_channel"] == "PJSIP/acme_1001-00000001"
    assert env["agi_accountcode"] == "acme" and env["agi_extension"] == "1002"
    assert env["agi_arg_1"] == "1700000000.1"


def test_wrk_output_is_read_in_milliseconds_with_every_error() -> None:
    assert parse(WRK_OUTPUT) == {
        "p50_ms": 0.85,
        "p75_ms": 1.2,
        "p90_ms": 2.5,
        "p99_ms": 1020.0,
        "requests_per_s": 2132.4,
        "requests": 21345,
        "errors": 7,
    }


def test_nearest_rank_percentiles() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50 and percentile(samples, 99) == 99
    assert percentile([3.0], 99) == 3.0
    assert summary_ms([0.001, 0.002]) == {
        "count": 2,
        "p50_ms": 1.0,
        "p90_ms": 2.0,
        "p99_ms": 2.0,
        "max_ms": 2.0,
    }
    assert summary_ms([]) == {"count": 0}
