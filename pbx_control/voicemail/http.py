"""/users/me/voicemail...: my messages, their audio, played/new, delete, my settings and greeting;
/users/{user_id}/voicemail/limits for admins. Another user's message is a 404, in any organization."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import BodyPartReader, web

from pbx_control.api.context import Ctx
from pbx_control.api.errors import ApiError
from pbx_control.api.registry import ADMIN, MEMBERS, RouteTable
from pbx_control.kernel.db import transaction
from pbx_control.kernel.errors import Invalid, NotFound, Unavailable
from pbx_control.mail.outbox import check_address
from pbx_control.voicemail import repository
from pbx_control.voicemail.audio import MAX_GREETING_BYTES, RangeNotSatisfiable, byte_range, greeting_wav
from pbx_control.voicemail.greeting import digest
from pbx_control.voicemail.schemas import (
    GreetingOut,
    LimitsIn,
    LimitsOut,
    MarkIn,
    MessageOut,
    MessagesOut,
    SettingsIn,
    SettingsOut,
)
from pbx_control.voicemail.service import Voicemail, file_name, message_out

routes = RouteTable("voicemail")
VOICEMAIL = web.AppKey("voicemail", Voicemail)
_CHUNK = 64 * 1024
DEFAULT_MAX_MESSAGES = 100  # voicemail.conf [general]
DEFAULT_MAX_SECONDS = 300


def _vm(ctx: Ctx) -> Voicemail:
    return ctx.app[VOICEMAIL]


@routes.route(
    "GET", "/users/me/voicemail", summary="My voicemail messages", roles=MEMBERS, response=MessagesOut
)
async def list_messages(ctx: Ctx) -> dict[str, Any]:
    """New (INBOX) and played (Old) messages and any saved through 001, newest first, each with
    the caller's number and name, time and duration. Read from Asterisk now (`live`), or as last
    seen when Asterisk cannot be reached."""
    rows, live = await _vm(ctx).listing(ctx.org_id, ctx.principal.user_id)
    out = [message_out(r) for r in rows]
    played = sum(1 for m in out if m["played"])
    return {"messages": out, "new": len(out) - played, "played": played, "live": live}


@routes.route(
    "GET",
    "/users/me/voicemail/messages/{message_id}",
    summary="One of my messages",
    roles=MEMBERS,
    response=MessageOut,
)
async def get_message(ctx: Ctx) -> dict[str, Any]:
    row = await repository.message(ctx.pool, ctx.org_id, ctx.principal.user_id, ctx.params["message_id"])
    return message_out(row)


@routes.route(
    "GET",
    "/users/me/voicemail/messages/{message_id}/audio",
    summary="A message's audio (WAV, byte ranges)",
    roles=MEMBERS,
    response=str,
    also=(206,),
)
async def get_audio(ctx: Ctx) -> web.StreamResponse:
    """audio/wav (8 kHz mono). `Range: bytes=first-last` answers 206 with those bytes, a range past
    the end 416. `?download=true` adds Content-Disposition: attachment with a name such as
    voicemail-20261202-1931-from-1311.wav."""
    path, row, tz = await _vm(ctx).audio_path(ctx.org_id, ctx.principal.user_id, ctx.params["message_id"])
    try:
        data = path.read_bytes()
    except OSError:
        raise NotFound("the message's audio is gone") from None
    size = len(data)
    name = file_name(row, tz)
    disposition = "attachment" if ctx.request.query.get("download") in ("1", "true") else "inline"
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Disposition": f'{disposition}; filename="{name}"',
        "Cache-Control": "private, max-age=0",
    }
    try:
        wanted = byte_range(ctx.request.headers.get("Range"), size)
    except RangeNotSatisfiable:
        raise ApiError(
            416,
            "range_not_satisfiable",
            f"the audio has {size} bytes",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    if wanted is None:
        return web.Response(body=data, status=200, content_type="audio/wav", headers=headers)
    first, last = wanted
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return web.Response(body=data[first : last + 1], status=206, content_type="audio/wav", headers=headers)


@routes.route(
    "PUT",
    "/users/me/voicemail/messages/{message_id}",
    summary="Mark a message played or new again",
    roles=MEMBERS,
    body=MarkIn,
    response=MessageOut,
)
async def mark_message(ctx: Ctx) -> dict[str, Any]:
    """`{"played": true}` moves it to Old, `false` back to INBOX, through AMI VoicemailMove: the lamp
    on my phones follows, and 001 treats it the same."""
    body: MarkIn = ctx.body
    row = await _vm(ctx).mark(ctx.org_id, ctx.principal.user_id, ctx.params["message_id"], body.played)
    return message_out(row)


@routes.route(
    "DELETE", "/users/me/voicemail/messages/{message_id}", summary="Delete a message", roles=MEMBERS
)
async def delete_message(ctx: Ctx) -> None:
    """Through AMI VoicemailRemove; the lamp follows."""
    await _vm(ctx).delete(ctx.org_id, ctx.principal.user_id, ctx.params["message_id"])


def _limits(row: Any) -> dict[str, Any]:
    return {
        "max_messages": row["max_messages"] or DEFAULT_MAX_MESSAGES,
        "max_seconds": row["max_seconds"] or DEFAULT_MAX_SECONDS,
        "retention_days": row["retention_days"],
    }


async def _settings(ctx: Ctx) -> dict[str, Any]:
    row = await repository.owner(ctx.pool, ctx.org_id, ctx.principal.user_id)
    box = repository.box_of(row)
    own = box is not None and _vm(ctx).spool.own_greeting(box, row["default_greeting_sha"])
    return {
        "mailbox": box.name if box else None,
        "mail": row["mail_enabled"],
        "mail_to": row["mail_to"],
        "mail_address": row["mail_to"] or row["email"],
        "greeting": "own" if own else "default",
        "limits": _limits(row),
    }


@routes.route(
    "GET",
    "/users/me/voicemail/settings",
    summary="My voicemail settings",
    roles=MEMBERS,
    response=SettingsOut,
)
async def get_settings(ctx: Ctx) -> dict[str, Any]:
    return await _settings(ctx)


@routes.route(
    "PUT",
    "/users/me/voicemail/settings",
    summary="Voicemail to mail on or off, and where to",
    roles=MEMBERS,
    body=SettingsIn,
    response=SettingsOut,
)
async def put_settings(ctx: Ctx) -> dict[str, Any]:
    """Only the fields sent change. `mail_to` must be a mail address (else 400, nothing changes);
    null: my account's email. Mail on with no address at all is a 400."""
    body: SettingsIn = ctx.body
    sent = body.model_fields_set
    fields: dict[str, Any] = {}
    if "mail_to" in sent:
        fields["mail_to"] = None if body.mail_to is None else check_address(body.mail_to, "mail_to")
    if "mail" in sent:
        if body.mail is None:
            raise Invalid("mail must be true or false")
        fields["mail_enabled"] = body.mail
    async with transaction(ctx.pool) as conn:
        row = await repository.owner(conn, ctx.org_id, ctx.principal.user_id)
        await repository.set_fields(conn, ctx.org_id, row["id"], fields)
        after = await repository.owner(conn, ctx.org_id, row["id"])
        if after["mail_enabled"] and not (after["mail_to"] or after["email"]):
            raise Invalid("voicemail to mail needs a mail address: set mail_to (or your account's email)")
    return await _settings(ctx)


@routes.route(
    "GET",
    "/users/{user_id}/voicemail/limits",
    summary="A user's voicemail limits (admins)",
    roles=ADMIN,
    response=LimitsOut,
)
async def get_limits(ctx: Ctx) -> dict[str, Any]:
    return _limits(await repository.owner(ctx.pool, ctx.org_id, ctx.params["user_id"]))


@routes.route(
    "PUT",
    "/users/{user_id}/voicemail/limits",
    summary="Set a user's voicemail limits (admins)",
    roles=ADMIN,
    body=LimitsIn,
    response=LimitsOut,
)
async def put_limits(ctx: Ctx) -> dict[str, Any]:
    """Messages the box holds (1..9999), the longest message (5..3600 s), and after how many days
    played messages are removed (1..3650, null: kept). Asterisk reads the limits at the next call."""
    body: LimitsIn = ctx.body
    fields: dict[str, Any] = {}
    for k in ("max_messages", "max_seconds", "retention_days"):
        if k in body.model_fields_set:
            fields[k] = getattr(body, k)
    async with transaction(ctx.pool) as conn:
        await repository.owner(conn, ctx.org_id, ctx.params["user_id"])
        await repository.set_fields(conn, ctx.org_id, ctx.params["user_id"], fields)
        row = await repository.owner(conn, ctx.org_id, ctx.params["user_id"])
    return _limits(row)


def _too_large() -> ApiError:
    return ApiError(
        413, "too_large", f"the greeting file must be at most {MAX_GREETING_BYTES // (1024 * 1024)} MiB"
    )


async def _read_upload(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_GREETING_BYTES:
        raise _too_large()
    read: Callable[[int], Awaitable[bytes]] = request.content.read
    if request.content_type.startswith("multipart/"):
        form = await request.multipart()
        part = await form.next()
        while part is not None and not (
            isinstance(part, BodyPartReader) and (part.filename or part.name == "file")
        ):
            part = await form.next()
        if not isinstance(part, BodyPartReader):
            raise Invalid("the form has no file (send it as the part named 'file')")
        read = part.read_chunk
    chunks, size = [], 0
    while chunk := await read(_CHUNK):
        size += len(chunk)
        if size > MAX_GREETING_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@routes.route(
    "PUT",
    "/users/me/voicemail/greeting",
    summary="Upload my greeting (an audio file)",
    roles=MEMBERS,
    response=GreetingOut,
)
async def put_greeting(ctx: Ctx) -> dict[str, Any]:
    """The body is the audio file itself (audio/wav, audio/flac, audio/ogg...; or a multipart form
    with the part `file`), at most 10 MiB (else 413) and 120 s. It is converted to what Asterisk
    plays and becomes what callers hear before the beep (also when I am busy, unless I recorded a
    busy greeting through 001). Not audio, too short or too long: 400, nothing changes."""
    row = await repository.owner(ctx.pool, ctx.org_id, ctx.principal.user_id)
    box = repository.box_of(row)
    upload = await _read_upload(ctx.request)
    wav, seconds = await greeting_wav(upload)
    if box is None:
        raise NotFound("you have no voicemail box (no extension)")
    spool = _vm(ctx).spool
    if not spool.root.is_dir():
        raise Unavailable("the voicemail spool is not reachable from this process", "voicemail_unavailable")
    spool.write_greeting(box, wav, "unavail")
    busy = spool.greeting(box, "busy")
    if busy is None or digest(busy) == row["default_greeting_sha"]:  # not one recorded through 001
        spool.write_greeting(box, wav, "busy")
    return {"greeting": "own", "seconds": seconds}


@routes.route("DELETE", "/users/me/voicemail/greeting", summary="Back to the default greeting", roles=MEMBERS)
async def delete_greeting(ctx: Ctx) -> None:
    """Removes my own greetings (uploaded or recorded through 001); callers hear the default one,
    spoken in my language with my name."""
    row = await repository.owner(ctx.pool, ctx.org_id, ctx.principal.user_id)
    box = repository.box_of(row)
    if box is not None:
        _vm(ctx).spool.remove_greetings(box)
        # the default one is written again (workers.DefaultGreetings, within seconds)
        await ctx.pool.execute(
            "UPDATE voicemail_boxes SET default_greeting_for = NULL WHERE user_id = $1", row["id"]
        )
