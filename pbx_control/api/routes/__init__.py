"""Feature route tables; api.app installs them all and documents them in one OpenAPI document."""

from __future__ import annotations

from pbx_control.api.registry import Route
from pbx_control.api.routes import auth, calls, devices, health, meta, numbers, organizations, trunks, users


def all_routes() -> list[Route]:
    tables = (auth, users, devices, numbers, organizations, trunks, calls, health, meta)
    return [route for module in tables for route in module.routes.routes]
