"""FastAGI server on asyncio streams: Asterisk's ``AGI(agi://host:port/<handler>,...)`` lands here."""

from pbx_control.agi.errors import (
    AgiCommandError,
    AgiError,
    AgiHangup,
    AgiProtocolError,
    AgiTimeout,
)
from pbx_control.agi.protocol import AgiResponse, quote_agi_arg
from pbx_control.agi.server import AgiServer, Handler
from pbx_control.agi.session import AgiSession

__all__ = [
    "AgiCommandError",
    "AgiError",
    "AgiHangup",
    "AgiProtocolError",
    "AgiResponse",
    "AgiServer",
    "AgiSession",
    "AgiTimeout",
    "Handler",
    "quote_agi_arg",
]
