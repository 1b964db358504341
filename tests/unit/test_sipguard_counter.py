"""The guard against SIP password guessing, as logic: failures counted per address in a sliding
window by the clock it is given, a block at the limit, exempt networks never counted, and the
astdb entries the ACL is made of."""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta

import pytest

from pbx_control.sipguard.counter import FailureCounter, parse_networks, remote_address
from pbx_control.sipguard.guard import acl_addresses, acl_key, acl_value

pytestmark = [pytest.mark.unit, pytest.mark.security]

T0 = datetime(2026, 11, 25, 13, 10, tzinfo=UTC)
A = ipaddress.ip_address("203.0.113.7")
B = ipaddress.ip_address("198.51.100.9")


def test_the_limit_within_the_window_blocks_for_the_block_time() -> None:
    c = FailureCounter(failures=3, window_s=60, block_s=900)
    assert c.failed(A, T0) is None
    assert c.failed(A, T0 + timedelta(seconds=10)) is None
    assert c.failed(B, T0 + timedelta(seconds=11)) is None  # another address counts on its own
    block = c.failed(A, T0 + timedelta(seconds=20))
    assert block is not None and block.address == A and block.failures == 3
    assert block.until == T0 + timedelta(seconds=20 + 900)
    # counted from zero again (Asterisk refuses the address before any login meanwhile)
    assert c.failed(A, T0 + timedelta(seconds=21)) is None


def test_failures_older_than_the_window_do_not_count() -> None:
    c = FailureCounter(failures=3, window_s=60, block_s=900)
    assert c.failed(A, T0) is None
    assert c.failed(A, T0 + timedelta(seconds=30)) is None
    assert c.failed(A, T0 + timedelta(seconds=61)) is None  # the first one has left the window
    assert c.failed(A, T0 + timedelta(seconds=62)) is not None


def test_exempt_networks_and_forgetting() -> None:
    c = FailureCounter(failures=2, exempt=parse_networks("203.0.113.0/24, 2001:db8::/32"))
    assert c.failed(A, T0) is None and c.failed(A, T0) is None  # exempt: never blocked
    assert c.failed(ipaddress.ip_address("2001:db8::5"), T0) is None
    assert c.failed(ipaddress.ip_address("2001:db8::5"), T0) is None
    assert c.failed(B, T0) is None
    c.forget(B)
    assert c.failed(B, T0) is None
    assert c.failed(B, T0) is not None


def test_bad_settings_and_networks_are_refused() -> None:
    with pytest.raises(ValueError):
        FailureCounter(failures=0)
    with pytest.raises(ValueError):
        parse_networks("10.0.0.0/8, office")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("IPV4/UDP/127.0.0.6/34650", "127.0.0.6"),
        ("IPV4/TLS/203.0.113.7/5061", "203.0.113.7"),
        ("IPV6/UDP/2001:db8::1/5060", "2001:db8::1"),
        ("IPV6/UDP/[2001:db8::1]/5060", "2001:db8::1"),
        ("", None),
        ("IPV4/UDP/not-an-address/5060", None),
        ("IPV4/UDP/127.0.0.1", None),
    ],
)
def test_remote_address_of_a_security_event(value: str, expected: str | None) -> None:
    got = remote_address(value)
    assert (str(got) if got else None) == expected


def test_the_acl_in_astdb() -> None:
    assert acl_key(A) == "block-203.0.113.7"
    assert json.loads(acl_value(A)) == {"deny": "203.0.113.7/32"}
    v6 = ipaddress.ip_address("2001:db8::1")
    assert json.loads(acl_value(v6)) == {"deny": "2001:db8::1/128"}
    entries = [
        {"Event": "DBGetTreeResponse", "Key": "/pbx_guard/acl/block-203.0.113.7", "Val": acl_value(A)},
        {"Event": "DBGetTreeResponse", "Key": "/pbx_guard/acl/block-2001:db8::1", "Val": acl_value(v6)},
        {"Event": "DBGetTreeResponse", "Key": "/pbx_guard/acl/someone-elses", "Val": "{}"},
        {"Event": "DBGetTreeComplete", "ListItems": "3"},
    ]
    assert acl_addresses(entries) == {A, v6}
