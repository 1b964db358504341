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
    held: bool = Field(
        default=False, description="on hold (from the app or on the phone): the other party hears music"
    )


class CallRef(Input):
    call: CallId


class TransferIn(Input):
    call: CallId
    to: str = Field(
        min_length=1,
        max_length=40,
        pattern=r"^[0-9+() -]+$",
        description="an extension of the organization (a user or a group) or an outside number"
        " (E.164, national 0... or international 00...), checked as a forward target is",
    )


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


# -- hold, resume, swap, keypad, click-to-call, retrieve a parked call (http_calls.py) ----------------

DeviceId = Annotated[int | None, Field(default=None, description="one of your devices; null: all of them")]


class SwapIn(Input):
    call: CallId = Field(description="the held call to take back")
    active: CallId | None = Field(
        default=None, description="the call to hold (default: your one active call)"
    )


class DtmfIn(Input):
    call: CallId
    digits: str = Field(pattern=r"^[0-9*#A-D]{1,32}$", description="keys to press: 0-9 * # A-D, at most 32")


class DialIn(Input):
    to: str = Field(
        min_length=1,
        max_length=200,
        description="an extension, a national or E.164 number, or a tel:/callto: URI",
    )
    device: DeviceId = None


class DialOut(BaseModel):
    to: str = Field(description="what your device will dial once answered")
    devices: list[str] = Field(description="the devices (SIP accounts) that ring")


class RetrieveIn(Input):
    slot: str = Field(pattern=r"^[0-9]{3}$", description="the parking slot (GET /calls/parked)")
    device: DeviceId = None


class MoveIn(Input):
    call: CallId = Field(description="your call, on another of your devices")
    device: int = Field(description="your device that should take the call (GET /users/me: devices)")


class MoveOut(BaseModel):
    call: str
    device: str = Field(description="the device (SIP account) that rings and, answered, takes the call")
