"""The call policy against toll fraud, as a pure decision: may this destination be used for this?

An organization's policy says, per use (dialling, forwarding, transferring, an answer group's
overflow or night destination), which classes of outside numbers are allowed (routing/destinations.py:
national, mobile, international, premium). Calls inside the organization and emergency numbers
are always allowed. Until an admin allows them, premium-rate and international numbers are refused.
An admin narrows dial, forward and transfer per user: the user's list is intersected with the
organization's, so a user never gets more than the organization allows.

Everything here is in memory and tested as tables (tests/unit/test_policy_decision.py); the
policy itself is read with the call's other facts (indexed rows, routing/repository.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from pbx_control.routing.destinations import destination_class

Use = Literal["dial", "forward", "transfer", "overflow"]
USES: tuple[Use, ...] = ("dial", "forward", "transfer", "overflow")
USER_USES: tuple[Use, ...] = ("dial", "forward", "transfer")  # an admin narrows these per user
OutsideClass = Literal["national", "mobile", "international", "premium"]
OUTSIDE_CLASSES: tuple[OutsideClass, ...] = ("national", "mobile", "international", "premium")
DEFAULT_ALLOWED: frozenset[str] = frozenset({"national", "mobile"})
ALWAYS_ALLOWED = frozenset({"internal", "emergency"})

_VERB = {
    "dial": "dialled",
    "forward": "forwarded to",
    "transfer": "transferred to",
    "overflow": "used as overflow",
}


@dataclass(frozen=True)
class CallPolicy:
    dial: frozenset[str] = DEFAULT_ALLOWED
    forward: frozenset[str] = DEFAULT_ALLOWED
    transfer: frozenset[str] = DEFAULT_ALLOWED
    overflow: frozenset[str] = DEFAULT_ALLOWED
    max_outside_calls: int | None = None  # concurrent legs out through the trunk; None: no limit
    max_call_seconds: int | None = None  # the longest leg out through the trunk; None: no limit

    def allowed(self, use: Use) -> frozenset[str]:
        allowed: frozenset[str] = getattr(self, use)
        return allowed

    def narrowed(self, user: UserNarrowing | None) -> CallPolicy:
        """The user's effective policy: the organization's, intersected with the user's lists."""
        if user is None:
            return self

        def mine(use: Use) -> frozenset[str]:
            theirs = user.get(use)
            return self.allowed(use) if theirs is None else self.allowed(use) & theirs

        return replace(self, dial=mine("dial"), forward=mine("forward"), transfer=mine("transfer"))


DEFAULT = CallPolicy()


class Row(Protocol):
    """A database row (asyncpg Record) or a dict."""

    def get(self, key: str) -> Any: ...


@dataclass(frozen=True)
class UserNarrowing:
    """An admin's narrowing of one user; None: as the organization."""

    dial: frozenset[str] | None = None
    forward: frozenset[str] | None = None
    transfer: frozenset[str] | None = None

    def get(self, use: Use) -> frozenset[str] | None:
        value: frozenset[str] | None = getattr(self, use, None)
        return value


def from_row(row: Row) -> CallPolicy:
    """A policy from columns read with a call's facts (repository.POLICY_COLUMNS): p_* the
    organization's row (NULL: none, the defaults), up_* the user's narrowing (NULL: none)."""
    org = DEFAULT
    if row.get("p_dial") is not None:
        org = CallPolicy(
            frozenset(row.get("p_dial")),
            frozenset(row.get("p_forward")),
            frozenset(row.get("p_transfer")),
            frozenset(row.get("p_overflow")),
            row.get("p_max_outside_calls"),
            row.get("p_max_call_seconds"),
        )
    user = UserNarrowing(*(_set(row.get(f"up_{use}")) for use in USER_USES))
    return org.narrowed(user)


def _set(values: Iterable[str] | None) -> frozenset[str] | None:
    return None if values is None else frozenset(values)


def refusal(policy: CallPolicy, use: Use, number: str, country_code: str = "46") -> str | None:
    """Why `number` (E.164, national, 00..., an extension or an emergency number) may not be used
    for `use` under `policy`; None when it may. An invalid number is not this decision's to refuse."""
    kind = destination_class(number, country_code)
    if kind in ALWAYS_ALLOWED or kind == "invalid":
        return None
    if kind in policy.allowed(use):
        return None
    return f"{kind} numbers may not be {_VERB[use]} (the organization's call policy)"
