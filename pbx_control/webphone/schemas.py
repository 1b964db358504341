"""What the browser softphone is told (GET/POST /users/me/webphone)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Webphone(BaseModel):
    device_id: int
    sip_username: str = Field(description="SIP username, also the authorization user")
    realm: str = Field(description="digest realm the ha1 belongs to")
    ha1: str = Field(description="md5(sip_username:realm:password) in hex; JsSIP's `ha1` option")
    uri: str = Field(description="SIP URI of the account (JsSIP's `uri`)")
    ws_url: str = Field(description="SIP over WebSocket (JsSIP's WebSocketInterface)")
    echo_test: str = Field(description="dial it for a sound test: your own audio comes back")
