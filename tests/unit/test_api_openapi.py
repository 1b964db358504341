"""The OpenAPI document is generated from the route registry, so it matches the routes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from pbx_control.api.app import PREFIX
from pbx_control.api.context import OPENAPI
from pbx_control.api.registry import route_of
from pbx_control.api.webapp import WEBAPP_RESOURCES
from pbx_control.service import operations
from pbx_control.testing import composed_app

pytestmark = [pytest.mark.unit, pytest.mark.api]
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def app() -> web.Application:
    return composed_app(None)  # type: ignore[arg-type]  # no database: the document only


def _api_routes(app: web.Application) -> list[web.AbstractRoute]:
    """Every route but the web app's own ("/" and its assets, api/webapp.py)."""
    return [r for r in app.router.routes() if r.resource not in app[WEBAPP_RESOURCES]]


def _aiohttp_routes(app: web.Application) -> set[tuple[str, str | None]]:
    found = set()
    for route in _api_routes(app):
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        found.add((route.method.lower(), path))
    return found


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m, path) for path, ops in doc["paths"].items() for m in ops if m in METHODS}


def test_every_route_is_documented_and_vice_versa(app: web.Application) -> None:
    doc = app[OPENAPI]
    served = _aiohttp_routes(app)
    assert served, "no routes registered"
    assert served == _documented(doc)


def test_every_aiohttp_route_comes_from_the_registry(app: web.Application) -> None:
    for route in _api_routes(app):
        assert getattr(route.handler, "route_spec", None) is not None, route


def test_the_web_app_has_only_its_page_and_assets(app: web.Application) -> None:
    """The routes left out above: GET "/" and (when built) /assets/, never anything under the API."""
    paths = {r.get_info().get("path") or r.get_info().get("prefix") for r in app[WEBAPP_RESOURCES]}
    assert "/" in paths and paths <= {"/", "/assets"}


def test_document_is_openapi_31_and_json(app: web.Application) -> None:
    doc = json.loads(json.dumps(app[OPENAPI]))
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_ref_resolves(app: web.Application) -> None:
    doc = app[OPENAPI]
    schemas = doc["components"]["schemas"]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if ref is not None:
                assert ref.startswith("#/components/schemas/")
                assert ref.rsplit("/", 1)[1] in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)


def test_public_and_protected_operations(app: web.Application) -> None:
    doc = app[OPENAPI]
    public = {(m, p) for p, ops in doc["paths"].items() for m, op in ops.items() if op.get("security") == []}
    assert public == {
        ("post", f"{PREFIX}/auth/login"),
        ("post", f"{PREFIX}/auth/password-reset"),
        ("post", f"{PREFIX}/auth/set-password"),
        ("get", f"{PREFIX}/health"),
        ("get", f"{PREFIX}/openapi.json"),
    }
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if (method, path) not in public:
                assert "401" in op["responses"] and op["x-roles"], (method, path)


def test_path_parameters_and_bodies_are_described(app: web.Application) -> None:
    doc = app[OPENAPI]
    op = doc["paths"][f"{PREFIX}/users/{{user_id}}"]["patch"]
    assert op["parameters"][0]["name"] == "user_id"
    assert op["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/UserUpdate"
    }
    assert "404" in op["responses"] and "409" in op["responses"]
    delete = doc["paths"][f"{PREFIX}/users/{{user_id}}"]["delete"]
    assert "204" in delete["responses"]
    assert "503" in doc["paths"][f"{PREFIX}/health"]["get"]["responses"]


def test_operation_ids_are_unique() -> None:
    ids = [r.operation_id for r in operations()]
    assert len(ids) == len(set(ids))


def test_route_of_finds_the_spec(app: web.Application) -> None:
    class FakeRequest:
        def __init__(self, handler: Any) -> None:
            self.match_info = type("M", (), {"handler": handler})()

    login = next(r for r in app.router.routes() if r.method == "POST" and "login" in str(r.resource))
    spec = route_of(FakeRequest(login.handler))  # type: ignore[arg-type]
    assert spec is not None and spec.roles is None
