"""kernel/periodic.py: a round that fails is logged and the next one runs; an outage (database or
Asterisk out of reach) is one warning line without a traceback, anything else an error with one."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from structlog.testing import capture_logs

from pbx_control.db.pool import DatabaseUnavailable
from pbx_control.kernel.periodic import PeriodicWorker

pytestmark = pytest.mark.unit


class _Failing(PeriodicWorker):
    name = "failing"

    def __init__(self, errors: list[Exception]) -> None:
        super().__init__(0.001)
        self.errors = errors
        self.rounds = 0

    async def run_once(self) -> int:
        self.rounds += 1
        if self.errors:
            raise self.errors.pop(0)
        return 0


@pytest.mark.parametrize(
    ("error", "level", "traceback"),
    [
        (DatabaseUnavailable(), "warning", False),
        (ConnectionRefusedError(111, "refused"), "warning", False),
        (TimeoutError(), "warning", False),
        (asyncpg.PostgresConnectionError("closed"), "warning", False),
        (asyncpg.InterfaceError("connection is closed"), "warning", False),
        (KeyError("slug"), "error", True),
        (ValueError("bad row"), "error", True),
    ],
)
async def test_a_failed_round_is_logged_by_kind_and_the_next_round_runs(
    error: Exception, level: str, traceback: bool
) -> None:
    worker = _Failing([error])
    with capture_logs() as logs:
        await worker.start()
        for _ in range(200):
            if worker.rounds >= 2:
                break
            await asyncio.sleep(0.005)
        await worker.stop()
    assert worker.rounds >= 2, "the round after the failure ran"
    failed = [e for e in logs if e["event"] == "failing_failed"]
    assert len(failed) == 1, logs
    assert failed[0]["log_level"] == level
    assert bool(failed[0].get("exc_info")) is traceback
    if not traceback:
        assert type(error).__name__ in failed[0]["error"]
