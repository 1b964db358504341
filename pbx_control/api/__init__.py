"""The HTTP API (aiohttp) under /api/v1; see api.app.create_app."""
