"""Domain errors; the HTTP API translates them into 404, 409 and 400."""

from __future__ import annotations


class TenancyError(Exception):
    """Base class; `message` is meant for humans (an API client, an operator)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TenancyError):
    """No such row in this organization (also when it exists in another one)."""


class Conflict(TenancyError):
    """The change collides with existing state, e.g. an extension or a username is taken."""


class Invalid(TenancyError):
    """The input is malformed or out of range; the message says which field and why."""
