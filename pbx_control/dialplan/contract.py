"""The contract with the dialplan: every channel variable a FastAGI handler sets, named once with
the check its value must pass. Decisions (routing's Route, groups' GroupRoute, ...) hand their
values to `variables`, which checks and names them; nothing else writes a `PBX_*` name.

The dialplan (asterisk-config/extensions*.conf) reads these and clears every one of them when a
call enters a routing context, so a transferred call never carries the previous callee's route.

A handler sends them all at once, PBX_ROUTE last (`route_last`), as its session's last word: one
SET VARIABLE each in one write, without a round trip (AgiSession.set_variables_and_end). Each
value is one quoted AGI argument (agi/protocol.quote_agi_arg): a caller name with commas, quotes
or `${...}` is only ever the value of its own variable, never evaluated by the dialplan's parser.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from pbx_control.kernel import ids

# A dial string we built: devices (PJSIP/<endpoint>&...) or one number through a trunk.
_DEVICE = f"PJSIP/{ids.ENDPOINT.pattern}"
_TRUNK_LEG = f"PJSIP/{ids.NUMBER.pattern}@{ids.ENDPOINT.pattern}"
DIAL_STRING = re.compile(f"{_DEVICE}(?:&{_DEVICE})*|{_TRUNK_LEG}")
QUEUE_NAME = re.compile(r"g[0-9]{1,18}v[0-9]{1,9}")
# What may stand in a display name: no control or format characters, no quotes, backslashes or
# angle brackets (they end a SIP display name or a dialplan argument). Letters of any script stay.
_NAME_DROP = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\"\\<>]")
MAX_NAME = 64
ACTIONS = frozenset(
    {
        # routing
        "dial", "external", "voicemail", "vmmain", "busy", "unknown", "unavailable", "refused",
        # answer groups
        "queue", "group-voicemail", "group-goto",
        # feature codes
        "feature-on", "feature-off", "feature-refused",
        # meetings
        "meeting", "meeting-join", "meeting-retry", "meeting-end",
        # moving a call to this device (*88)
        "move", "move-none",
    }
)  # fmt: skip


def safe_name(name: str | None) -> str:
    """A caller name fit for CALLERID(name), a SIP display name and a log line ('' if none).

    Control and bidi characters, double quotes, backslashes and angle brackets go; an apostrophe
    becomes a typographic one (U+2019); whitespace collapses; at most MAX_NAME chars."""
    if not name:
        return ""
    text = _NAME_DROP.sub(" ", name).replace("'", "\u2019")
    return " ".join(text.split())[:MAX_NAME].rstrip()


def _mailbox(text: str) -> bool:
    ext, at, org = text.partition("@")
    return bool(at) and ids.is_extension(ext) and ids.is_slug(org)


def _pattern(regex: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: regex.fullmatch(text) is not None


def _seconds(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= 5


@dataclass(frozen=True)
class Var:
    """One channel variable: `PBX_<suffix>`, or `PBX_OVERFLOW_<suffix>` for a nested decision
    (an answer group's overflow). `shared` ones are never prefixed (the call's organization)."""

    suffix: str
    check: Callable[[str], bool]
    what: str
    shared: bool = False

    @property
    def name(self) -> str:
        return f"PBX_{self.suffix}"


ROUTE = Var("ROUTE", ACTIONS.__contains__, "what the dialplan does with the call")
ORG = Var("ORG", ids.is_slug, "the organization the call belongs to (calls from the carrier)", shared=True)
DIAL = Var("DIAL", _pattern(DIAL_STRING), "what Dial() rings")
DIAL_TIMEOUT = Var("DIAL_TIMEOUT", _seconds, "how long Dial() rings, seconds")
CALLERID_NUM = Var("CALLERID_NUM", _pattern(ids.NUMBER), "the number shown to the called party")
CALLERID_HIDDEN = Var("CALLERID_HIDDEN", "1".__eq__, "the caller's number is withheld")
CALLERID_NAME = Var("CALLERID_NAME", lambda t: safe_name(t) == t, "the caller's name shown")
PROMPT = Var("PROMPT", _pattern(ids.PROMPT), "an announcement played first")
VOICEMAIL = Var("VOICEMAIL", _mailbox, "the mailbox <extension>@<organization>")
BUSY_DIAL = Var("BUSY_DIAL", _pattern(DIAL_STRING), "second try when the first Dial() is busy")
BUSY_TIMEOUT = Var("BUSY_TIMEOUT", _seconds, "how long the busy leg rings")
BUSY_CALLERID_NUM = Var("BUSY_CALLERID_NUM", _pattern(ids.NUMBER), "number shown on the busy leg")
BUSY_CALLERID_HIDDEN = Var("BUSY_CALLERID_HIDDEN", "1".__eq__, "number withheld on the busy leg")
NOANSWER_DIAL = Var("NOANSWER_DIAL", _pattern(DIAL_STRING), "second try when nobody answers")
NOANSWER_TIMEOUT = Var("NOANSWER_TIMEOUT", _seconds, "how long the no-answer leg rings")
NOANSWER_CALLERID_NUM = Var("NOANSWER_CALLERID_NUM", _pattern(ids.NUMBER), "number on the no-answer leg")
NOANSWER_CALLERID_HIDDEN = Var("NOANSWER_CALLERID_HIDDEN", "1".__eq__, "withheld on the no-answer leg")
QUEUE = Var("QUEUE", _pattern(QUEUE_NAME), "the answer group's queue")
QUEUE_TIMEOUT = Var("QUEUE_TIMEOUT", _seconds, "the longest wait in the queue, seconds")
GROUP_GOTO = Var("GROUP_GOTO", ids.is_extension, "another answer group's extension")
GROUP_ID = Var("GROUP_ID", lambda t: t.isascii() and t.isdigit() and len(t) <= 18, "a group's lamp")
MEETING_ROOM = Var("MEETING_ROOM", _pattern(re.compile(r"m[0-9]{1,18}")), "the ConfBridge room of a meeting")
MEETING_PROFILE = Var(
    "MEETING_PROFILE", {"pbx-participant", "pbx-host"}.__contains__, "the ConfBridge user profile"
)
MEETING_WAIT = Var("MEETING_WAIT", _seconds, "seconds to wait before the next PIN (failures slowed)")
MEETING_SAY = Var("MEETING_SAY", _pattern(ids.PROMPT), "a meeting prompt (in prompts/meetings/)")
MEETING_ASK = Var("MEETING_ASK", _pattern(ids.PROMPT), "the 'enter the PIN' prompt, in the caller's language")
MOVE_PEER = Var("MOVE_PEER", _pattern(ids.UNIQUEID), "the far end of the call *88 takes (its uniqueid)")
MOVE_OLD = Var("MOVE_OLD", _pattern(ids.UNIQUEID), "the channel of the device the call is taken from")

# Every variable a handler may set, and the prefix of nested decisions.
ALL: tuple[Var, ...] = (
    ROUTE, ORG, DIAL, DIAL_TIMEOUT, CALLERID_NUM, CALLERID_HIDDEN, CALLERID_NAME, PROMPT, VOICEMAIL,
    BUSY_DIAL, BUSY_TIMEOUT, BUSY_CALLERID_NUM, BUSY_CALLERID_HIDDEN,
    NOANSWER_DIAL, NOANSWER_TIMEOUT, NOANSWER_CALLERID_NUM, NOANSWER_CALLERID_HIDDEN,
    QUEUE, QUEUE_TIMEOUT, GROUP_GOTO, GROUP_ID,
    MEETING_ROOM, MEETING_PROFILE, MEETING_WAIT, MEETING_SAY, MEETING_ASK, MOVE_PEER, MOVE_OLD,
)  # fmt: skip
OVERFLOW = "PBX_OVERFLOW_"

Value = str | int | bool | None


class UnsafeValue(ValueError):
    """A decision carried a value that does not pass its variable's check: a bug, never input."""


def variables(values: Mapping[Var, Value], prefix: str = "PBX_") -> dict[str, str]:
    """Checked channel variables by name. None, '' and False are left out; True is '1'."""
    out: dict[str, str] = {}
    for var, value in values.items():
        if value is None or value is False or value == "":
            continue
        text = "1" if value is True else str(int(value)) if isinstance(value, int) else value
        if not var.check(text):
            raise UnsafeValue(f"unsafe {var.name} {text!r}")
        out[var.name if var.shared else prefix + var.suffix] = text
    return out


def route_last(values: Mapping[str, str]) -> dict[str, str]:
    """The same variables with PBX_ROUTE last: set after everything the dialplan acts on, so a
    decision cut short leaves PBX_ROUTE empty (the fallback), never half a route."""
    out = {name: value for name, value in values.items() if name != ROUTE.name}
    if ROUTE.name in values:
        out[ROUTE.name] = values[ROUTE.name]
    return out


class Decision(Protocol):
    """What a FastAGI handler hands to the dialplan (routing's Route, groups' GroupRoute)."""

    @property
    def action(self) -> str: ...

    @property
    def reason(self) -> str: ...

    def variables(self) -> dict[str, str]:
        """Channel variables, PBX_ROUTE among them; every value already checked by `variables`."""
        ...
