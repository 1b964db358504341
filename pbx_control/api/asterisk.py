"""What an API request may wait for Asterisk, and how an AMI failure reaches the client.

Asterisk away is 503 ami_unavailable, not answering within the deadline 504 ami_timeout (a frozen
Asterisk never hangs a request), and an action Asterisk refused 409 (the call or room changed
under us). Every route that sends AMI actions wraps them in `asterisk_errors()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pbx_control.ami.errors import AmiError, AmiUnavailable
from pbx_control.api.errors import ApiError

# One operation's wait for every AMI response and event it needs. Only the first action of an
# operation goes out before its answer: the ones after are never sent.
AMI_DEADLINE_S = 2.0


@asynccontextmanager
async def asterisk_errors(
    deadline_s: float | None = AMI_DEADLINE_S, refused: str = "call_changed"
) -> AsyncIterator[None]:
    """`deadline_s` None: the operation's own bound (an Originate waits for the ring time).
    `refused`: the 409's code when Asterisk answers with an error."""
    try:
        async with asyncio.timeout(deadline_s):
            yield
    except AmiUnavailable:
        raise ApiError(503, "ami_unavailable", "Asterisk is not connected; try again") from None
    except TimeoutError:  # AmiTimeout included
        raise ApiError(504, "ami_timeout", "Asterisk did not answer in time; try again") from None
    except AmiError as exc:
        raise ApiError(409, refused, f"Asterisk refused: {exc.message}") from None
