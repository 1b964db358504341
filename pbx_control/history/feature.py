"""Call history in the control service: the history routes and the retention purge. The history
itself is written by Asterisk (cel_pgsql) and a trigger in PostgreSQL, not by this process."""

from __future__ import annotations

from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.history import http
from pbx_control.history.notify import HistoryEvents
from pbx_control.history.retention import RetentionWorker


def _workers(rt: Runtime) -> list[Worker]:
    workers: list[Worker] = [RetentionWorker(rt.pool, rt.settings.history_retention_days, clock=rt.clock)]
    if rt.events is not None:  # a process with the live events: history.added
        workers.append(HistoryEvents(rt.pool, rt.events, rt.settings.database_url))
    return workers


FEATURE = Feature(name="history", routes=(http.routes,), workers=_workers)
