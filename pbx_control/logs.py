"""structlog configured for JSON lines on stderr.

Call ids (uniqueid, linkedid) and the organization are bound with structlog's contextvars by the
adapters (AGI session, AMI event, API request), so every line a call causes carries them.
"""

from __future__ import annotations

import logging
import sys
from typing import cast

import structlog
from structlog.typing import EventDict, FilteringBoundLogger, WrappedLogger

# Keys whose values never reach a log line.
_SECRET_KEYS = frozenset({"password", "secret", "token", "authorization", "sip_password", "md5_cred"})


def _drop_secrets(_logger: WrappedLogger, _method: str, event: EventDict) -> EventDict:
    for key in list(event):
        if key.lower() in _SECRET_KEYS:
            event[key] = "[redacted]"
    return event


def configure(level: str = "info") -> None:
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # One write() per line (message and newline together): the FastAGI child and the service
        # share stderr, and with write-through stdio print() made two, so lines could interleave.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> FilteringBoundLogger:
    # structlog.get_logger returns Any by design: the logger is the wrapper class configure() chose.
    return cast(FilteringBoundLogger, structlog.get_logger(name))
