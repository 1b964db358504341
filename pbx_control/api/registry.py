"""One route registry for dispatch and docs. Each route declares method, path, handler, request
body model, response type, the roles allowed and a summary; `install` adds them to aiohttp and
api.openapi documents exactly the same list.

Handlers take a Ctx and return plain data (dicts, models, lists) that is validated against the
route's response type and serialized as JSON, so a row can never leak a column the response model
does not declare. Path parameters named *_id are positive integers (other text: 404).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from pbx_control.api.context import Ctx, Reply
from pbx_control.api.errors import ApiError, is_malformed_json, validation_message

PUBLIC: frozenset[str] | None = None
ANYONE = frozenset({"user", "operator", "admin", "platform"})
MEMBERS = frozenset({"user", "operator", "admin"})
ADMIN = frozenset({"admin"})
PLATFORM = frozenset({"platform"})

RouteHandler = Callable[[Ctx], Awaitable[Any]]
_PARAM = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # below the API prefix, e.g. "/users/{user_id}"
    handler: RouteHandler
    summary: str
    roles: frozenset[str] | None  # None: no token needed
    body: type[BaseModel] | None = None
    response: Any = None  # a type for pydantic's TypeAdapter; None: 204 No Content
    status: int = 200
    tag: str = ""
    also: tuple[int, ...] = ()  # other statuses answered with the same response type

    @property
    def params(self) -> list[str]:
        return _PARAM.findall(self.path)

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def description(self) -> str:
        return (self.handler.__doc__ or "").strip()


class RouteTable:
    """A feature module's routes, declared with decorators."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.routes: list[Operation] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        roles: frozenset[str] | None,
        body: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        also: tuple[int, ...] = (),
    ) -> Callable[[RouteHandler], RouteHandler]:
        if response is None:
            status = 204

        def decorator(fn: RouteHandler) -> RouteHandler:
            self.routes.append(
                Operation(method.upper(), path, fn, summary, roles, body, response, status, self.tag, also)
            )
            return fn

        return decorator


def aiohttp_path(path: str) -> str:
    """/users/{user_id} -> /users/{user_id:[0-9]{1,18}} (fits a bigint; other text is a 404)."""
    return _PARAM.sub(lambda m: "{%s:[0-9]{1,18}}" % m.group(1), path)  # noqa: UP031


def _make_handler(route: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    adapter = TypeAdapter(route.response) if route.response is not None else None

    async def handler(request: web.Request) -> web.StreamResponse:
        params = {name: int(request.match_info[name]) for name in route.params}
        body = None
        if route.body is not None:
            raw = await request.read()
            try:
                body = route.body.model_validate_json(raw if raw.strip() else b"{}")
            except ValidationError as exc:
                if is_malformed_json(exc):
                    raise ApiError(400, "malformed_json", "the request body is not valid JSON") from None
                raise ApiError(400, "validation_error", validation_message(exc)) from None
        result = await route.handler(Ctx(request, body, params))
        if isinstance(result, web.StreamResponse):  # the handler answered itself (a WebSocket)
            return result
        status = route.status
        if isinstance(result, Reply):
            result, status = result.value, result.status
        if adapter is None:
            return web.Response(status=204)
        payload = adapter.dump_json(adapter.validate_python(result))
        return web.Response(body=payload, status=status, content_type="application/json")

    handler.__name__ = route.operation_id
    handler.route_spec = route  # type: ignore[attr-defined]  # the aiohttp handler carries its entry (route_of)
    return handler


def route_of(request: web.Request) -> Operation | None:
    """The registry entry of the matched route (None for unknown paths and wrong methods)."""
    return getattr(request.match_info.handler, "route_spec", None)


def install(app: web.Application, prefix: str, routes: list[Operation]) -> None:
    seen: set[str] = set()
    for route in routes:
        if route.operation_id in seen:
            raise ValueError(f"duplicate operation id {route.operation_id}")
        seen.add(route.operation_id)
        app.router.add_route(route.method, prefix + aiohttp_path(route.path), _make_handler(route))
