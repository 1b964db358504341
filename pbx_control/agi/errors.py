"""Exceptions raised by the FastAGI layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pbx_control.agi.protocol import AgiResponse


class AgiError(Exception):
    """Base class of every FastAGI error."""


class AgiHangup(AgiError):
    """The channel hung up (or Asterisk closed the connection): no further command can run.

    The server treats it as a normal end of the session, not as an error.
    """


class AgiProtocolError(AgiError):
    """Asterisk (or whatever is on the other end) sent something that is not FastAGI."""


class AgiTimeout(AgiError, TimeoutError):
    """Asterisk did not answer one command within the session's command timeout."""


class AgiCommandError(AgiError):
    """Asterisk answered a command with something other than 200 (510, 520, ...)."""

    def __init__(self, response: AgiResponse) -> None:
        super().__init__(f"AGI command failed: {response.raw!r}")
        self.response = response
