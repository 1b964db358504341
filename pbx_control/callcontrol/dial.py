"""Click-to-call: what a link or a typed number means as something to dial, and the AMI Originate
that rings the user's device(s) and, on answer, dials it from the device.

`parse_destination` is pure: a tel:/callto: URI (RFC 3966) or a typed number becomes the digits a
phone would send, or a DestinationError saying why not. The call itself enters the dialplan exactly
as one dialled on the device (extensions_callcontrol.conf, [pbx-click]): org-<slug>, pbx-from-device,
routing with activities, forwards, groups and caller-ID rules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from pbx_control.ami.client import AmiClient
from pbx_control.kernel import ids
from pbx_control.routing.dialled import classify

MAX_DESTINATION = 200
CLICK_CONTEXT = "pbx-click"  # extensions_callcontrol.conf
RING_S = 30
# What a device may be asked to dial: digits, a leading +, and *8<slot> (retrieve a parked call).
_DIALABLE = re.compile(r"\+?[0-9]{2,16}|\*8[0-9]{3}")
_VISUAL = re.compile(r"[\s\-.()]|%20")  # RFC 3966 visual separators (and the spaces people type)
_NUMBER = re.compile(r"\+?[0-9]+")
_GLOBAL_CONTEXT = re.compile(r"\+[0-9]{1,8}")
_DOMAIN_CONTEXT = re.compile(
    r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)


class DestinationError(ValueError):
    """A destination we cannot dial; the message says why (for a 400)."""


@dataclass(frozen=True)
class Destination:
    dial: str  # what the device dials: an extension, a national or international number, E.164
    kind: str  # "extension" or "external" (routing.dialled.classify)


def _digits(text: str, what: str) -> str:
    cleaned = _VISUAL.sub("", text)
    if not cleaned:
        raise DestinationError(f"{what} is empty")
    if not _NUMBER.fullmatch(cleaned):
        raise DestinationError(f"{what} {text!r} has characters other than digits, a leading + and - . ( )")
    return cleaned


def _from_tel(body: str) -> str:
    number, *params = body.split(";")
    context = None
    for param in params:
        name, _, value = param.partition("=")
        name = name.strip().lower()
        if name == "phone-context":
            context = value.strip()
        elif name in ("ext", "isub"):
            raise DestinationError(
                f"tel: parameter {name}= is not supported (dial the number, then the keypad)"
            )
        # Other parameters (RFC 3966: ignore what you do not know).
    digits = _digits(number, "the number")
    if digits.startswith("+"):
        return digits  # a global number: phone-context must be absent and is ignored
    if context is None or not context:
        return digits  # a local number without context: as the user would dial it
    if context.startswith("+"):
        prefix = _VISUAL.sub("", context)
        if not _GLOBAL_CONTEXT.fullmatch(prefix):
            raise DestinationError(f"phone-context {context!r} is not a global number prefix")
        return prefix + digits
    if not _DOMAIN_CONTEXT.fullmatch(context):
        raise DestinationError(f"phone-context {context!r} is neither a +prefix nor a domain")
    return digits  # a domain context: the local number as dialled within it


def parse_destination(text: str) -> Destination:
    """An extension, a national or international number, E.164, or a tel:/callto: URI."""
    value = unquote(text.strip()) if len(text) <= MAX_DESTINATION else None
    if value is None:
        raise DestinationError(f"longer than {MAX_DESTINATION} characters")
    if "\n" in value or "\r" in value:
        raise DestinationError("contains a line break")
    scheme, sep, rest = value.partition(":")
    if sep and scheme.lower() == "tel":
        dial = _from_tel(rest)
    elif sep and scheme.lower() == "callto":
        rest = rest.removeprefix("//").split(";", 1)[0].split("?", 1)[0]
        dial = _digits(rest, "the number")
    elif sep:
        raise DestinationError(f"unsupported scheme {scheme!r}: use tel:, callto: or a number")
    else:
        dial = _digits(value, "the number")
    if dial.startswith("+") and dial.startswith("+00"):
        raise DestinationError("a + number cannot continue with 00")
    dialled = classify(dial)
    if dialled.kind == "invalid":
        raise DestinationError(f"{dial!r} is neither an extension, a national number nor an E.164 number")
    return Destination(dial=dial, kind=dialled.kind)


async def ring_then_dial(
    ami: AmiClient, organization: str, endpoints: Sequence[str], dial: str, *, display: str
) -> None:
    """Ring `endpoints` (all at once); the one that answers dials `dial` as if typed on it.

    A Local channel answers at once (so Originate returns now) and rings the devices; Dial's G()
    sends the answering device to [pbx-click] with the number (extensions_callcontrol.conf)."""
    slug = ids.org_context(organization).removeprefix("org-")
    if not endpoints or not all(ids.ENDPOINT.fullmatch(e) for e in endpoints):
        raise ValueError(f"invalid endpoints {endpoints!r}")
    if not _DIALABLE.fullmatch(dial):
        raise ValueError(f"not dialable {dial!r}")
    name = re.sub(r"[^A-Za-z0-9 +*#]", "", display)[:40] or dial
    await ami.send(
        {
            "Action": "Originate",
            "Channel": f"Local/ring@{CLICK_CONTEXT}/n",
            "Application": "Wait",
            "Data": str(RING_S + 5),
            "CallerID": f'"{name}" <{dial}>',  # what the ringing device shows
            "Account": slug,
            "Variable": [
                f"PBX_CLICK_DIAL={'&'.join(f'PJSIP/{e}' for e in endpoints)}",
                f"PBX_CLICK_RING={RING_S}",
                f"__PBX_CLICK_TO={dial}",
                f"__PBX_CLICK_ORG={slug}",
            ],
            "Timeout": 10000,  # for the Local channel, which answers at once
            "Async": "true",
        }
    )
