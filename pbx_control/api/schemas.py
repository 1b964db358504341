"""The shapes every feature's schemas build on: ids, strict inputs, the error body, health.
Each feature keeps its own request and response models in its schemas.py."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case, stable", examples=["not_found"])
    message: str = Field(description="human readable")


class ErrorOut(BaseModel):
    error: ErrorDetail


# --- organizations, trunks (platform) -------------------------------------------------------


# --- health -----------------------------------------------------------------------------------


class DatabaseHealth(BaseModel):
    ok: bool


class HealthOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: Literal["ok", "degraded"]
    database: DatabaseHealth
    ami: dict[str, Any]
    agi: dict[str, Any]


# --- who asks: login ---------------------------------------------------------------------------


class LoginIn(Input):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class UserOut(BaseModel):
    id: int
    organization_id: int | None
    extension: str | None
    name: str
    username: str
    email: str | None
    role: str
    language: str
    ring_time: int
    created_at: datetime


class LoginOut(BaseModel):
    token: str = Field(description="send as Authorization: Bearer <token>")
    expires_at: datetime
    user: UserOut
