"""Every error is JSON: {"error": {"code": "<snake_case>", "message": "<human text>"}}."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web
from asyncpg.exceptions._base import DataError as ArgumentDataError
from pydantic import ValidationError

from pbx_control.kernel.db import CONNECTION_ERRORS
from pbx_control.kernel.errors import Conflict, Forbidden, Invalid, NotFound, Unavailable
from pbx_control.logs import get_logger

log = get_logger("pbx_control.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_RETRY = {"Retry-After": "1"}
_DATABASE_DOWN = "the database is not available; try again shortly"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False)
    return web.Response(status=status, text=body, content_type="application/json", headers=headers)


def snake_case(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "error"


def validation_message(exc: ValidationError, what: str = "request body") -> str:
    """One line naming each bad field and why, e.g. `extension: is required; role: Input should be ...`."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = ".".join(str(p) for p in err["loc"]) or what
        kind = err["type"]
        if kind == "missing":
            reason = "is required"
        elif kind == "extra_forbidden":
            reason = "is not a known field"
        else:
            reason = str(err["msg"]).removeprefix("Value error, ")
        parts.append(f"{loc}: {reason}")
    return f"invalid {what}: " + "; ".join(parts)


def is_malformed_json(exc: ValidationError) -> bool:
    return any(err["type"] == "json_invalid" for err in exc.errors(include_url=False))


def _http_exception(request: web.Request, exc: web.HTTPException) -> web.Response:
    headers = {}
    if exc.status == 404:
        message = f"no such endpoint: {request.method} {request.path}"
    elif exc.status == 405:
        allowed = exc.headers.get("Allow", "")
        headers["Allow"] = allowed
        message = f"method {request.method} is not allowed on {request.path}; allowed: {allowed}"
    else:
        message = exc.reason
    return error_response(exc.status, snake_case(exc.reason), message, headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    except NotFound as exc:
        return error_response(404, "not_found", exc.message)
    except Conflict as exc:
        return error_response(409, "conflict", exc.message)
    except Invalid as exc:
        return error_response(400, exc.code, exc.message)
    except Forbidden as exc:
        return error_response(403, "forbidden", exc.message)
    except Unavailable as exc:
        log.warning("unavailable", code=exc.code, path=request.path, cause=repr(exc.__cause__))
        return error_response(503, exc.code, exc.message, _RETRY)
    except CONNECTION_ERRORS as exc:
        # The database went away during the request (stopped, backend terminated, dropped).
        log.warning("unavailable", code="database_unavailable", path=request.path, cause=repr(exc))
        return error_response(503, "database_unavailable", _DATABASE_DOWN, _RETRY)
    except (asyncpg.DataError, ArgumentDataError):
        # A value PostgreSQL cannot take (out of range, NUL...); the transaction was rolled back.
        return error_response(400, "invalid", "a value is malformed or out of range")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _http_exception(request, exc)
    except asyncio.CancelledError:
        raise
    except TimeoutError:
        # Something the request waited for did not answer (a query on a stalled connection...).
        log.warning("unavailable", code="timeout", path=request.path)
        return error_response(503, "timeout", "a backend did not answer in time; try again shortly", _RETRY)
    except Exception:
        log.exception("unhandled_error", method=request.method, path=request.path)
        return error_response(500, "internal_error", "internal server error; see the server log")
