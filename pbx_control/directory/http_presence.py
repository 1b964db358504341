"""Presence of colleagues: activity, until, note and whether each is on a call."""

from __future__ import annotations

import weakref
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from pbx_control.api.context import CALLS, Ctx
from pbx_control.api.registry import MEMBERS, RouteTable
from pbx_control.directory.http_query import query_ids
from pbx_control.directory.presence_cache import PresenceCache
from pbx_control.directory.schemas import PresenceOut

routes = RouteTable("presence")
_ADAPTER = TypeAdapter(list[PresenceOut])


def _render(entries: list[dict[str, Any]]) -> bytes:
    """Validated against the documented response type once per change, not once per request."""
    return _ADAPTER.dump_json(_ADAPTER.validate_python(entries))


# One cache per application (and so per database).
_caches: weakref.WeakKeyDictionary[web.Application, PresenceCache] = weakref.WeakKeyDictionary()


def _cache(app: web.Application) -> PresenceCache:
    cache = _caches.get(app)
    if cache is None:
        cache = _caches[app] = PresenceCache(_render)
    return cache


@routes.route(
    "GET", "/presence", summary="Colleagues' activity and calls", roles=MEMBERS, response=list[PresenceOut]
)
async def get_presence(ctx: Ctx) -> web.Response:
    """Every user of your organization, alphabetically (or only ?user_id=1,2,...). An activity whose
    end time has passed is shown as available. `call` comes from the live channels of the devices:
    idle, ringing, on_call, or unknown when this server does not follow Asterisk (AMI)."""
    body = await _cache(ctx.app).body(
        ctx.pool, ctx.org_id, ctx.app.get(CALLS), user_ids=query_ids(ctx, "user_id"), now=ctx.now()
    )
    return web.Response(body=body, content_type="application/json")
