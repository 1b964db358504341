"""Feature route tables; api.app installs them all and documents them in one OpenAPI document."""

from __future__ import annotations

from pbx_control.api.registry import Route
from pbx_control.api.routes import auth, calls, devices, health, meta, numbers, organizations, trunks, users
from pbx_control.api.routes import contacts as contacts_routes
from pbx_control.api.routes import directory as directory_routes
from pbx_control.api.routes import events as events_routes
from pbx_control.api.routes import groups as groups_routes
from pbx_control.api.routes import presence as presence_routes
from pbx_control.api.routes import reachability as reachability_routes


def all_routes() -> list[Route]:
    tables = (auth, users, devices, numbers, organizations, trunks, calls, health, meta)
    tables += (events_routes,)
    tables += (groups_routes,)
    tables += (contacts_routes, directory_routes, presence_routes)
    tables += (reachability_routes,)
    return [route for module in tables for route in module.routes.routes]
