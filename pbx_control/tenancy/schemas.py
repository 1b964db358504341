"""Request and response models of the tenancy routes (and the user the login returns). Inputs
forbid unknown fields; content rules (extension format, username case, phone number formats...)
are checked by the tenancy services, so the seeder and the API share one set of rules and
messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

# UserOut (the login shape) is also the tenancy routes' user: re-exported for them.
from pbx_control.api.schemas import Id, Input
from pbx_control.api.schemas import UserOut as UserOut

Role = Literal["user", "operator", "admin"]


Language = Literal["sv", "en"]


Kind = Literal["desk", "mobile", "desktop", "web"]
Transport = Literal["udp", "tls"]
MediaEncryption = Literal["none", "sdes"]
_TRANSPORT = "where calls reach the phone: udp, or tls (over the TLS connection it registered on)"
_MEDIA = "sdes: SRTP with SDES keys (RTP/SAVP, a=crypto) offered and required; only with transport tls"


Extension = Annotated[str, Field(description="2 to 8 digits, not starting with 0", examples=["1001"])]


Username = Annotated[str, Field(description="lowercase letters, digits and . _ @ + -")]


Password = Annotated[str, Field(description="at least 8 characters, at most 72 bytes")]


InitialPassword = Annotated[
    Password | None,
    Field(description="optional when email is given: the welcome mail's link lets the user set it"),
]


class DirectoryEntry(BaseModel):
    """What every member of an organization may see about a colleague."""

    id: int
    extension: str | None
    name: str
    email: str | None


class UserCreate(Input):
    extension: Extension
    name: str = Field(description="any script, quotes allowed; 1 to 200 characters")
    username: Username
    password: InitialPassword = None
    role: Role = "user"
    language: Language = "sv"
    email: str | None = None
    ring_time: int = Field(default=30, description="seconds, 5 to 300")


class AdminCreate(Input):
    extension: Extension
    name: str
    username: Username
    password: InitialPassword = None
    language: Language = "sv"
    email: str | None = None


class ResetRequest(Input):
    """A username or a mail address."""

    login: str = Field(max_length=254, examples=["anna", "anna@example.com"])


class Accepted(BaseModel):
    message: str


class SetPassword(Input):
    """The token of a set-password link (what follows #set-password= in it) and the new password."""

    token: str = Field(max_length=256)
    password: Password


class PasswordSet(BaseModel):
    username: str


class PasswordChange(Input):
    """My own password: the one I have now and the new one."""

    current: str = Field(max_length=1000)
    new: Password


class UserUpdate(Input):
    """Only the fields present change; email null clears it. A new password logs the user out."""

    extension: Extension | None = None
    name: str | None = None
    username: Username | None = None
    password: Password | None = None
    role: Role | None = None
    language: Language | None = None
    email: str | None = None
    ring_time: int | None = None


class DeviceOut(BaseModel):
    id: int
    user_id: int
    kind: str
    label: str
    sip_username: str
    transport: Transport = Field(description=_TRANSPORT)
    media_encryption: MediaEncryption = Field(description=_MEDIA)
    created_at: datetime


class DeviceCreate(Input):
    kind: Kind
    label: str = Field(default="", description="at most 100 characters")
    sip_username: str | None = Field(default=None, description="generated (<slug>_<ext>_<n>) if absent")
    password: str | None = Field(default=None, description="generated if absent; at least 12 characters")
    transport: Transport = Field(default="udp", description=_TRANSPORT)
    media_encryption: MediaEncryption = Field(default="none", description=_MEDIA)


class DeviceUpdate(Input):
    label: str | None = Field(default=None, description="at most 100 characters")
    transport: Transport | None = Field(default=None, description=_TRANSPORT)
    media_encryption: MediaEncryption | None = Field(default=None, description=_MEDIA)


class PasswordReset(Input):
    password: str | None = Field(default=None, description="generated if absent; at least 12 characters")


class SipAccount(BaseModel):
    """What a softphone needs. The password is shown only in this response."""

    username: str
    password: str
    realm: str
    domain: str
    port: int
    transport: str = Field(description="the device's transport: udp (registrar) or tls (tls_registrar)")
    registrar: str = Field(examples=["sip:pbx.example.com:5060"])
    aor: str = Field(examples=["sip:acme_1001_1@pbx.example.com"])
    tls_port: int = Field(description="SIP over TLS (sips:), besides UDP on `port`", examples=[5061])
    tls_registrar: str = Field(examples=["sips:pbx.example.com:5061"])


class DeviceCreated(BaseModel):
    device: DeviceOut
    sip: SipAccount


class NumberOut(BaseModel):
    id: int
    number: str = Field(description="E.164")
    user_id: int | None
    created_at: datetime


class NumberCreate(Input):
    number: str = Field(description="E.164 (+46812345678) or Swedish national (08-123 456 78)")
    user_id: Id | None = None


class NumberRangeCreate(Input):
    first: str = Field(description="E.164 or national; as many digits as last", examples=["+46855500000"])
    last: str = Field(examples=["+46855500099"])


class NumberRangeOut(BaseModel):
    id: int
    organization_id: int
    first_number: str
    last_number: str
    created_at: datetime


class NumberUpdate(Input):
    user_id: Id | None = Field(description="the user calls to this number reach; null for none")


class OrganizationBrief(BaseModel):
    id: int
    slug: str
    name: str


class MeOut(UserOut):
    organization: OrganizationBrief | None
    devices: list[DeviceOut]
    numbers: list[NumberOut]


class OrganizationOut(BaseModel):
    id: int
    slug: str
    name: str
    main_number: str | None
    timezone: str
    working_hours: dict[str, list[str]]
    created_at: datetime


class OrganizationCreated(OrganizationOut):
    admin: UserOut | None = None


class OrganizationCreate(Input):
    slug: str = Field(description="2 to 24 lowercase letters and digits; permanent")
    name: str
    main_number: str | None = None
    timezone: str = "Europe/Stockholm"
    admin: AdminCreate | None = Field(default=None, description="the organization's first admin")


class OrganizationUpdate(Input):
    name: str | None = None
    main_number: str | None = Field(default=None, description="null clears it")
    timezone: str | None = None
    working_hours: dict[str, list[str]] | None = Field(
        default=None, description='{"mon": ["08:00", "17:00"], ...}; a missing day is closed'
    )


class TrunkOut(BaseModel):
    id: int
    name: str
    host: str
    port: int
    match: str
    created_at: datetime


class TrunkCreate(Input):
    name: str
    host: str
    port: int = Field(default=5060, ge=1, le=65535)
    match: str = Field(description="IP address or CIDR the carrier sends from")


class PhoneSetup(BaseModel):
    """How to set up one of my own phones (desk phone, mobile or desktop softphone)."""

    device: DeviceOut
    username: str = Field(description="SIP username, also the authorization user")
    realm: str
    domain: str = Field(description="the registrar's host")
    port: int
    transport: str = Field(examples=["udp"])
    registrar: str = Field(examples=["sip:pbx.example.com:5060"])
    tls_port: int
    tls_registrar: str = Field(examples=["sips:pbx.example.com:5061"])
    password: str | None = Field(
        description="only in the answer to POST .../password; never stored, so never shown again"
    )
    setup_uri: str = Field(
        description="what the app's QR code holds: sip:user[:password]@host:port;transport=udp",
        examples=["sip:acme_1001_1@pbx.example.com:5060;transport=udp"],
    )
