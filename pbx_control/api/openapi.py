"""The OpenAPI 3.1 document, generated from the route registry and pydantic's JSON schemas."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from pbx_control import __version__
from pbx_control.api.registry import Operation
from pbx_control.api.schemas import ErrorOut

_REF = "#/components/schemas/{model}"
_ERROR_TEXT = {
    400: "Bad input; nothing was changed",
    401: "Missing, invalid or expired token",
    403: "Your role may not use this endpoint",
    404: "Not found (also when it belongs to another organization)",
    409: "Conflicts with existing data (e.g. extension or username taken)",
}


def _error_statuses(route: Operation) -> list[int]:
    statuses = []
    if route.body is not None or route.params:
        statuses.append(400)
    if route.roles is not None:
        statuses += [401, 403]
    if route.params:
        statuses.append(404)
    if route.method in ("POST", "PATCH") and route.body is not None and route.roles is not None:
        statuses.append(409)
    return statuses


def build_document(routes: list[Operation], prefix: str, title: str = "pbx-control API") -> dict[str, Any]:
    inputs: list[tuple[Any, Any, TypeAdapter[Any]]] = [("error", "serialization", TypeAdapter(ErrorOut))]
    for route in routes:
        if route.body is not None:
            inputs.append(((route.operation_id, "body"), "validation", TypeAdapter(route.body)))
        if route.response is not None:
            inputs.append(((route.operation_id, "response"), "serialization", TypeAdapter(route.response)))
    schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    by_key = {key: schema for (key, _mode), schema in schemas.items()}
    error_ref = by_key["error"]

    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "operationId": route.operation_id,
            "summary": route.summary,
            "tags": [route.tag] if route.tag else [],
        }
        if route.description:
            operation["description"] = route.description
        if route.roles is None:
            operation["security"] = []
        else:
            operation["x-roles"] = sorted(route.roles)
        if route.params:
            operation["parameters"] = [
                {"name": p, "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
                for p in route.params
            ]
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": by_key[(route.operation_id, "body")]}},
            }
        responses: dict[str, Any] = {}
        if route.response is None:
            responses[str(route.status)] = {"description": "Done"}
        else:
            for status in (route.status, *route.also):
                responses[str(status)] = {
                    "description": route.summary,
                    "content": {"application/json": {"schema": by_key[(route.operation_id, "response")]}},
                }
        for status in _error_statuses(route):
            responses[str(status)] = {
                "description": _ERROR_TEXT[status],
                "content": {"application/json": {"schema": error_ref}},
            }
        responses["default"] = {
            "description": "Any other error",
            "content": {"application/json": {"schema": error_ref}},
        }
        operation["responses"] = responses
        paths.setdefault(prefix + route.path, {})[route.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": __version__},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearerAuth": []}],
    }
