"""Failed SIP logins counted per source address (pure logic; "now" is passed in).

Asterisk reports each failed login as a security event on AMI (ChallengeResponseFailed: a wrong
digest answer; InvalidPassword; InvalidAccountID: an unknown SIP username). `failures` of them from
one address within `window_s` blocks that address until `block_s` later. Exempt networks (an
office behind one NAT address, the carrier) are never counted.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The AMI events (class `security`) that are a failed login.
FAILED_LOGIN_EVENTS = ("ChallengeResponseFailed", "InvalidPassword", "InvalidAccountID")
MAX_TRACKED = 10_000  # addresses counted at once; the oldest are forgotten first


def remote_address(value: str) -> Address | None:
    """The host of a security event's RemoteAddress (`IPV4/UDP/203.0.113.7/5060`), else None."""
    parts = value.split("/")
    if len(parts) != 4 or parts[0] not in ("IPV4", "IPV6"):
        return None
    host = parts[2].strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (`10.1.2.0/24, 198.51.100.7`); ValueError on anything else."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in text.split(",") if p.strip())


@dataclass(frozen=True)
class Block:
    address: Address
    failures: int
    since: datetime
    until: datetime


@dataclass
class FailureCounter:
    failures: int = 10
    window_s: float = 60.0
    block_s: float = 900.0
    exempt: tuple[Network, ...] = ()
    _seen: dict[Address, deque[datetime]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.failures < 1 or self.window_s <= 0 or self.block_s <= 0:
            raise ValueError("failures, window and block time must be positive")

    def is_exempt(self, address: Address) -> bool:
        return any(address in net for net in self.exempt if net.version == address.version)

    def failed(self, address: Address, now: datetime) -> Block | None:
        """One failed login from `address` at `now`; a Block when this one reaches the limit. The
        count starts again from zero then (a blocked address gets no further to fail: Asterisk
        refuses it before any login)."""
        if self.is_exempt(address):
            return None
        times = self._seen.pop(address, None) or deque()
        self._seen[address] = times  # most recently seen last
        times.append(now)
        start = now - timedelta(seconds=self.window_s)
        while times and times[0] <= start:
            times.popleft()
        while len(self._seen) > MAX_TRACKED:
            del self._seen[next(iter(self._seen))]
        if len(times) < self.failures:
            return None
        del self._seen[address]
        return Block(address, len(times), now, now + timedelta(seconds=self.block_s))

    def forget(self, address: Address) -> None:
        """Count `address` from zero again (its block ended, or was not stored)."""
        self._seen.pop(address, None)
