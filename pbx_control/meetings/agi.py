"""The meeting dial-in's FastAGI handler `meeting_pin`. It only sets variables; the dialplan
(extensions_meetings.conf) reads the PIN, plays the prompts, waits and joins the room.

`conference_dial`: a person rung into an ad-hoc conference, routed as the host's own call.

`meeting_pin,start`: the caller's language's "enter the PIN" prompt. `meeting_pin,<pin>,<try>`:
the decision for one PIN (meetings/dialin.py). The organization comes from the channel's
accountcode (the device's endpoint, or the inbound handler for the outside dial-in number), so a
PIN is only ever looked up in the caller's own organization.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import structlog

from pbx_control.agi.session import AgiSession
from pbx_control.dialplan.apply import apply_decision
from pbx_control.kernel import ids
from pbx_control.kernel.clock import Clock
from pbx_control.logs import get_logger
from pbx_control.meetings.dialin import DialIn, decide
from pbx_control.meetings.pins import PinThrottle
from pbx_control.meetings.sentences import SENTENCES, Say
from pbx_control.reachability.prompts import VOICES, ensure_prompt, prompt_key
from pbx_control.routing.calls import CallRouter
from pbx_control.routing.decision import Route

Handler = Callable[[AgiSession], Awaitable[None]]
log = get_logger(__name__)
DEFAULT_LANGUAGE = "sv"  # outside callers: the organizations' default (Swedish)
MAX_PIN = 12


class MeetingPrompts:
    """The dial-in's sentences as prompt files in <prompts>/meetings/. Their names follow from the
    sentence (reachability.prompts.prompt_key), so the handler names them without asking whether
    they are made yet; the dialplan plays one only if its file exists."""

    def __init__(self, prompts_dir: Path) -> None:
        self.dir = prompts_dir / "meetings"

    async def make(self) -> None:
        for lang, sentences in SENTENCES.items():
            for say, sentence in sentences.items():
                try:
                    await ensure_prompt(self.dir, sentence, lang)
                except (OSError, RuntimeError) as exc:
                    log.warning("meeting_prompt.failed", language=lang, say=say, error=str(exc))

    @staticmethod
    def key(lang: str, say: Say | None) -> str | None:
        if say is None:
            return None
        return prompt_key(SENTENCES[lang][say], VOICES[lang])


_LANGUAGE = """SELECT u.language FROM devices d
               JOIN users u ON u.id = d.user_id JOIN organizations o ON o.id = d.organization_id
               WHERE d.sip_username = $1 AND o.slug = $2"""
# owner_device: the caller is on one of the meeting owner's own devices (the host, no host PIN)
_MATCH = """SELECT m.id, m.pin, m.host_pin, m.ends_at, m.deleted_at,
                   EXISTS (SELECT 1 FROM devices d
                           WHERE d.user_id = m.owner_user_id AND d.sip_username = $3) AS owner_device
            FROM meetings m JOIN organizations o ON o.id = m.organization_id
            WHERE o.slug = $1 AND (m.pin = $2 OR m.host_pin = $2) LIMIT 1"""


def make_pin_handler(pool: asyncpg.Pool, throttle: PinThrottle, clock: Clock) -> Handler:
    async def meeting_pin(session: AgiSession) -> None:
        org = session.accountcode
        if not ids.is_slug(org):
            await apply_decision(session, DialIn("meeting-end", "call without organization", ask=None))
            return
        structlog.contextvars.bind_contextvars(organization=org)
        lang = DEFAULT_LANGUAGE
        if session.endpoint:
            found = await pool.fetchval(_LANGUAGE, session.endpoint, org)
            lang = found if found in SENTENCES else DEFAULT_LANGUAGE
        args = session.args
        if not args or args[0] == "start":
            decision = DialIn("meeting-retry", "start")
        else:
            pin = args[0] if args[0].isascii() and args[0].isdigit() and len(args[0]) <= MAX_PIN else ""
            raw_try = args[1] if len(args) > 1 else "1"
            attempt = int(raw_try) if raw_try.isascii() and raw_try.isdigit() and len(raw_try) < 3 else 99
            caller = f"dev:{session.endpoint}" if session.endpoint else f"num:{session.callerid_num}"
            wait = throttle.delay(caller, org)
            match = (
                dict(row)
                if wait == 0 and pin and (row := await pool.fetchrow(_MATCH, org, pin, session.endpoint))
                else None
            )
            decision = decide(pin, attempt, match, wait, clock())
            if wait == 0:
                if match is None:
                    throttle.failed(caller, org)
                elif decision.action == "meeting-join":
                    throttle.succeeded(caller)
            if decision.action == "meeting-retry":
                decision = dataclasses.replace(decision, wait_s=math.ceil(throttle.delay(caller, org)))
        decision = dataclasses.replace(
            decision,
            say_key=MeetingPrompts.key(lang, decision.say),
            ask_key=MeetingPrompts.key(lang, decision.ask),
        )
        await apply_decision(session, decision)

    return meeting_pin


_HOST_DEVICE = """SELECT 1 FROM devices d JOIN organizations o ON o.id = d.organization_id
                  WHERE d.sip_username = $1 AND o.slug = $2"""


def make_conference_dial_handler(pool: asyncpg.Pool, router: CallRouter, clock: Clock) -> Handler:
    """`conference_dial,<host endpoint>`: someone rung into an ad-hoc conference
    (meetings/conferences.py), routed exactly as if the host had dialled the number on that device.
    The endpoint is set by the service in the Originate (never by a phone) and must be a device of
    the call's own organization (its accountcode)."""

    async def conference_dial(session: AgiSession) -> None:
        org = session.accountcode
        host = session.args[0] if session.args else ""
        known = (
            ids.is_slug(org)
            and ids.ENDPOINT.fullmatch(host) is not None
            and await pool.fetchval(_HOST_DEVICE, host, org) is not None
        )
        if not known:
            await apply_decision(
                session, Route("unknown", reason="conference call without its host's device")
            )
            return
        structlog.contextvars.bind_contextvars(organization=org)
        await apply_decision(session, await router.from_device(org, host, session.extension, clock()))

    return conference_dial
