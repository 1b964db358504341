"""Reachability in the control service: activities, custom settings, VIP and blocked callers over
HTTP; the announcements callers hear, made in the background."""

from __future__ import annotations

from pbx_control.feature import Feature, Runtime, Worker
from pbx_control.reachability import http, http_callers
from pbx_control.reachability.worker import PromptWorker


def _workers(rt: Runtime) -> list[Worker]:
    return [PromptWorker(rt.pool, rt.settings.prompts, listen_dsn=rt.settings.database_url, clock=rt.clock)]


FEATURE = Feature(
    name="reachability",
    routes=(http.routes, http_callers.routes),
    dialplan="extensions_reachability.conf",
    workers=_workers,
)
