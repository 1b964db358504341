"""The guard's blocks in PostgreSQL, by the service's clock: recorded at the limit with the block
time, deleted once that time has passed and not before (no Asterisk here: AMI absent, so only the
record is checked; tests/e2e/test_sip_attacks.py shows Asterisk refusing the address)."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest

from pbx_control.sipguard.counter import FailureCounter
from pbx_control.sipguard.guard import SipGuard
from tests.support.clock import FixedClock

pytestmark = [pytest.mark.integration, pytest.mark.security]


class _Event(dict[str, str]):
    pass


async def test_a_block_is_recorded_and_lifted_when_its_time_has_passed(
    db_pool: asyncpg.Pool, clock: FixedClock
) -> None:
    guard = SipGuard(db_pool, FailureCounter(failures=3, window_s=60, block_s=600), clock)
    event = _Event(Event="ChallengeResponseFailed", RemoteAddress="IPV4/UDP/203.0.113.7/5060")
    for _ in range(3):
        guard.on_security_event(event)  # type: ignore[arg-type]
        clock.advance(timedelta(seconds=1))
    for task in list(guard._pending):
        await task
    row = await db_pool.fetchrow("SELECT * FROM sip_blocks")
    assert row is not None and str(row["address"]) == "203.0.113.7" and row["failures"] == 3
    assert row["until"] - row["blocked_at"] == timedelta(seconds=600)
    assert guard.blocked_total == 1 and guard.failures_seen == 3

    clock.advance(timedelta(seconds=598))  # 599 s after the block: still in force
    assert await guard.sweep() == 0
    clock.advance(timedelta(seconds=1))
    assert await guard.sweep() == 1
    assert await db_pool.fetchval("SELECT count(*) FROM sip_blocks") == 0
    assert guard.lifted_total == 1


async def test_a_network_is_not_a_block(db_pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await db_pool.execute(
            "INSERT INTO sip_blocks (address, failures, blocked_at, until)"
            " VALUES ('10.0.0.0/8', 1, now(), now() + '1 s')"
        )
