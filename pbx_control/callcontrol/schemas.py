"""Request and response bodies of the call control routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from pbx_control.api.schemas import Input
from pbx_control.callcontrol.actions import MAX_PARK_S, MIN_PARK_S
from pbx_control.kernel import ids

CallId = Annotated[str, Field(max_length=80, description="the `id` of a call in GET /calls")]


Extension = Annotated[
    str, Field(pattern=f"^{ids.EXTENSION.pattern}$", description="an extension of the organization")
]


class CallOut(BaseModel):
    id: str
    endpoint: str = Field(description="the device (SIP account) the call is on")
    state: str = Field(description="Asterisk's channel state: Ringing, Ring (dialling), Up, ...")
    peer_number: str
    peer_name: str
    bridged: bool = Field(description="talking to the other party (not ringing, not parked)")
    since: str | None = Field(default=None, description="when the call started (ISO 8601, UTC)")


class CallRef(Input):
    call: CallId


class TransferIn(Input):
    call: CallId
    to: Extension


class ParkIn(Input):
    call: CallId
    timeout_s: int = Field(120, ge=MIN_PARK_S, le=MAX_PARK_S, description="seconds before it rings you again")


class ParkOut(BaseModel):
    slot: str = Field(description="dial *8<slot> from any phone of the organization to pick it up")
    timeout_s: int = Field(description="seconds before it rings the one who parked it again")


class ParkedOut(BaseModel):
    slot: str
    caller_number: str
    caller_name: str
    timeout_s: int


# -- announced transfer (http_transfers.py) ------------------------------------------------------

Destination = Annotated[
    str,
    Field(
        pattern=f"^(?:{ids.EXTENSION.pattern}|{ids.NUMBER.pattern})$",
        description="an extension (a user's or a group's) or an outside number (E.164 with +, or national)",
    ),
]


class AnnouncedTransferIn(Input):
    call: CallId
    to: Destination


class TransferOut(BaseModel):
    id: int
    call: str = Field(description="the call it was started on (the user's channel)")
    to: str
    state: str = Field(description="ringback | answered | completed | cancelled | declined | abandoned")
    reason: str | None = Field(
        default=None,
        description="declined: busy | no_answer | unavailable; cancelled: cancelled | recipient_hangup; "
        "completed: completed | blind",
    )
