"""The default greeting: what callers hear in a box whose owner has no greeting of their own, one
sentence in the owner's language with their name, spoken by espeak-ng as activity announcements
are (reachability/prompts.py), then the beep.

It is written into the box as app_voicemail's own unavailable and busy greetings (spool.py), so
VoiceMail() plays it with no lookup on the call's path; its sha256 is kept (voicemail_boxes), so a
greeting there with other content is the owner's own and is never overwritten.
"""

from __future__ import annotations

import hashlib

from pbx_control.directory.text import safe_display_name
from pbx_control.voicemail.box import Box

_SENTENCES = {
    "sv": "Du har kommit till {name}. Jag kan inte svara just nu. Lämna ett meddelande efter tonen.",
    "en": "You have reached {name}. I can't take your call right now. Please leave a message after the tone.",
}


def sentence(name: str, language: str) -> str:
    who = safe_display_name(name) or ("mig" if language == "sv" else "me")
    return _SENTENCES.get(language, _SENTENCES["sv"]).format(name=who)


def made_for(name: str, language: str, box: Box) -> str:
    """What a default greeting was made for (compared in SQL by the worker): a change of the
    name, the language or the box makes it again."""
    return f"{name}|{language}|{box.name}"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
