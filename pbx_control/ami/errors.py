"""Errors raised by the AMI client.

Every error is an `AmiError`, so `except AmiError` covers them all; callers that care tell them
apart by class (an HTTP layer maps AmiUnavailable to 503 and AmiTimeout to 504, for instance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from panoramisk.message import Message


class AmiError(Exception):
    """The action did not succeed. Raised as such for a `Response: Error` (the base of the others).

    `message` is Asterisk's `Message:` (plus the output of a failed `Command`), `action` the name of
    the action that failed, `response` the panoramisk Message when there was one.
    """

    def __init__(
        self, message: str, *, action: str = "", response: Message | list[Message] | None = None
    ) -> None:
        super().__init__(f"{action}: {message}" if action else message)
        self.message = message
        self.action = action
        self.response = response


class AmiUnavailable(AmiError):
    """No logged-in AMI connection right now, or it was lost before the response came."""


class AmiTimeout(AmiError, TimeoutError):
    """The response did not come in time. The action may still have been carried out by Asterisk."""


class AmiLoginFailed(AmiError):
    """Asterisk refused the Login (wrong username or secret, or the user may not connect from here)."""
