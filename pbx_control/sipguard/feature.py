"""Slowing password guessing over SIP: the service counts Asterisk's security events (failed digest
logins, unknown accounts) per source address and has Asterisk refuse an address that failed too
often (SIP 403) for a bounded time. Runs where the AMI bridge runs."""

from __future__ import annotations

from pbx_control.ami import AmiClient
from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.sipguard.counter import FAILED_LOGIN_EVENTS, FailureCounter, parse_networks
from pbx_control.sipguard.guard import SipGuard

_GUARDS: dict[int, tuple[Runtime, SipGuard]] = {}


def guard(rt: Runtime) -> SipGuard:
    """The one guard of a runtime (the AMI hook feeds it, the worker sweeps its blocks)."""
    found = _GUARDS.get(id(rt))
    if found is None or found[0] is not rt:
        s = rt.settings
        counter = FailureCounter(
            failures=s.sip_guard_failures,
            window_s=s.sip_guard_window_s,
            block_s=s.sip_guard_block_s,
            exempt=parse_networks(s.sip_guard_exempt),
        )
        g = SipGuard(rt.pool, counter, rt.clock)
        _GUARDS[id(rt)] = (rt, g)
        return g
    return found[1]


def _ami(rt: Runtime, ami: AmiClient) -> None:
    guard(rt).attach(ami, FAILED_LOGIN_EVENTS)


def _ami_workers(rt: Runtime, ami: AmiClient) -> list[Worker]:
    return [guard(rt)]


def _health(rt: Runtime) -> dict[str, object]:
    g = guard(rt)
    return {
        "ok": True,  # a counter, never a degradation
        "failed_logins_total": g.failures_seen,
        "blocked_total": g.blocked_total,
        "lifted_total": g.lifted_total,
    }


FEATURE = Feature(name="sipguard", ami=_ami, ami_workers=_ami_workers, ami_health=_health)
