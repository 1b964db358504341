"""Short-lived, single-use WebSocket tickets, in memory per process.

Browsers cannot set headers on a WebSocket, and a bearer token in a URL ends up in proxy and
browser history logs. So a client asks ``POST /events/tickets`` (with its bearer token) for a
ticket and opens ``/events?ticket=<ticket>``: the ticket is good for one upgrade within `ttl_s`
seconds, for the user who asked, and only while the bearer token it was issued under is still
valid (a logout in between kills it). Only the ticket's sha256 is kept; the store is bounded
(`max_per_user` outstanding per user, the oldest dropped; expired ones are swept on every issue).

The tickets live in this process only: redeem a ticket at the process that issued it. Time comes
from the injected clock.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pbx_control.kernel.clock import Clock

TICKET_TTL_S = 30
MAX_TICKET_LENGTH = 256


@dataclass(frozen=True)
class Ticket:
    """What a redeemed ticket stands for: the user and organization it was issued to and the
    bearer token it was issued under (re-checked at redemption and while the socket is open)."""

    user_id: int
    organization_id: int | None
    token: str
    expires_at: datetime


def _digest(ticket: str) -> bytes:
    return hashlib.sha256(ticket.encode()).digest()


class TicketStore:
    def __init__(self, clock: Clock, *, ttl_s: int = TICKET_TTL_S, max_per_user: int = 10) -> None:
        self._clock = clock
        self.ttl_s = ttl_s
        self._max_per_user = max(1, max_per_user)
        self._tickets: dict[bytes, Ticket] = {}

    def __len__(self) -> int:
        return len(self._tickets)

    def issue(self, user_id: int, organization_id: int | None, token: str) -> str:
        now = self._clock()
        self._sweep(now)
        mine = [k for k, t in self._tickets.items() if t.user_id == user_id]
        for key in mine[: max(0, len(mine) - self._max_per_user + 1)]:  # dicts keep issue order
            del self._tickets[key]
        ticket = secrets.token_urlsafe(32)
        expires_at = now + timedelta(seconds=self.ttl_s)
        self._tickets[_digest(ticket)] = Ticket(user_id, organization_id, token, expires_at)
        return ticket

    def redeem(self, ticket: str) -> Ticket | None:
        """The ticket's grant, once: a second redemption, an expired or unknown ticket is None."""
        if not ticket or len(ticket) > MAX_TICKET_LENGTH:
            return None
        grant = self._tickets.pop(_digest(ticket), None)
        if grant is None or grant.expires_at <= self._clock():
            return None
        return grant

    def _sweep(self, now: datetime) -> None:
        for key in [k for k, t in self._tickets.items() if t.expires_at <= now]:
            del self._tickets[key]
