"""Domain errors. The HTTP kernel maps each to one status (api/errors.py); features raise them."""

from __future__ import annotations


class DomainError(Exception):
    """Base class; `message` is meant for humans (an API client, an operator)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such row in this organization (also when it exists in another one)."""


class Conflict(DomainError):
    """The change collides with existing state, e.g. an extension or a username is taken."""


class Invalid(DomainError):
    """The input is malformed or out of range; the message says which field and why. `code` names
    the kind for the error body (e.g. destination_not_allowed), "invalid" unless told."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


class Forbidden(DomainError):
    """The asker may see the thing but not do this to it (403). Where even its existence must not
    leak to the asker, raise NotFound instead."""


class Unavailable(DomainError):
    """Something the request needs is down or saturated (the database, a bounded executor): 503,
    try again shortly. `code` names what, for the error body."""

    def __init__(self, message: str, code: str = "unavailable") -> None:
        super().__init__(message)
        self.code = code
