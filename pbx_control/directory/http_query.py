"""Query-string and upload helpers of the directory routes (bad input: 400/413, never a 500)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import BodyPartReader, web

from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.directory.imports import MAX_UPLOAD_BYTES

MAX_QUERY = 100
_CHUNK = 64 * 1024


def query_text(ctx: Ctx, name: str, max_len: int = MAX_QUERY) -> str | None:
    value = ctx.request.query.get(name)
    if value is None:
        return None
    if len(value) > max_len:
        raise ApiError(400, "invalid", f"{name} must be at most {max_len} characters")
    if "\x00" in value:
        raise ApiError(400, "invalid", f"{name} must not contain NUL characters")
    return value


def query_int(ctx: Ctx, name: str, default: int, low: int, high: int) -> int:
    raw = ctx.request.query.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, "invalid", f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def query_bool(ctx: Ctx, name: str) -> bool:
    raw = (ctx.request.query.get(name) or "").lower()
    if raw in ("", "0", "false", "no"):
        return False
    if raw in ("1", "true", "yes"):
        return True
    raise ApiError(400, "invalid", f"{name} must be true or false")


def query_ids(ctx: Ctx, name: str, max_count: int = 1000) -> list[int] | None:
    """?user_id=1&user_id=2 or ?user_id=1,2 -> [1, 2]; None when absent."""
    raw = ctx.request.query.getall(name, [])
    if not raw:
        return None
    ids: list[int] = []
    for part in ",".join(raw).split(","):
        part = part.strip()
        if not part.isascii() or not part.isdigit() or not 1 <= int(part) < 2**63:
            raise ApiError(400, "invalid", f"{name} must be positive whole numbers")
        ids.append(int(part))
    if len(ids) > max_count:
        raise ApiError(400, "invalid", f"at most {max_count} values of {name}")
    return ids


def _too_large() -> ApiError:
    return ApiError(413, "too_large", f"the file must be at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")


async def _read_limited(read_chunk: Callable[[int], Awaitable[bytes]]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await read_chunk(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_UPLOAD_BYTES:
            raise _too_large()
        chunks.append(chunk)


async def read_upload(request: web.Request) -> bytes:
    """The uploaded file: the raw body (text/vcard, text/csv, ...) or the first file part of a
    multipart/form-data form (a browser upload). At most MAX_UPLOAD_BYTES."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + _CHUNK:
        raise _too_large()
    if request.content_type.startswith("multipart/"):
        try:
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if isinstance(part, BodyPartReader) and (part.filename or part.name == "file"):
                    return await _read_limited(part.read_chunk)
        except (ValueError, AssertionError) as exc:
            raise ApiError(400, "invalid", f"malformed multipart body: {exc}") from None
        raise ApiError(400, "invalid", "the form has no file (send it as the part named 'file')")
    return await _read_limited(request.content.read)
