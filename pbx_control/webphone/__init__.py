"""The softphone in the browser: the signed-in user's own web device (WebRTC over SIP/WebSocket)."""
