"""The default greeting: what callers hear in a box whose owner has no greeting of their own, one
sentence in the owner's language with their name, spoken by espeak-ng as activity announcements
are (reachability/prompts.py), then the beep.

Written to `<prompts>/voicemail/<organization slug>/<extension>.wav`, where the dialplan
(extensions_voicemail.conf) looks for it by the box's name, so a call needs no lookup.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

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


def default_path(prompts: Path, box: Box) -> Path:
    return prompts / "voicemail" / box.context / f"{box.mailbox}.wav"


def install(source: Path, prompts: Path, box: Box) -> None:
    """Copy a made prompt to the box's default greeting, atomically."""
    target = default_path(prompts, box)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{box.mailbox}.{os.getpid()}.{secrets.token_hex(4)}.wav")
    try:
        shutil.copyfile(source, tmp)
        tmp.chmod(0o644)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
