"""The box's files in app_voicemail's spool (`<spool>/<context>/<mailbox>/<Folder>/msgNNNN.{txt,wav}`).

Messages are only READ here (their audio for the app and for mail); they are moved and removed
through AMI (asterisk.py). Greetings (`unavail`, `busy`, `greet`, `temp` beside the folders) are
what app_voicemail plays to callers: an uploaded one is written under a temporary name and renamed
over the old, so a caller never hears half a file, and removed when the owner goes away.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from pbx_control.voicemail.box import FOLDERS, MSG_ID, Box

GREETINGS = ("unavail", "busy", "greet", "temp")
_GREETING_SUFFIXES = (".wav", ".WAV", ".gsm", ".sln", ".ulaw", ".alaw", ".g722", ".wav49")


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def box_dir(self, box: Box) -> Path:
        return self.root / box.context / box.mailbox

    def _info(self, box: Box, folder: str, msg_id: str) -> tuple[Path, dict[str, str]] | None:
        if folder not in FOLDERS or not MSG_ID.fullmatch(msg_id):
            return None
        folder_dir = self.box_dir(box) / folder
        try:
            texts = sorted(folder_dir.glob("msg*.txt"))
        except OSError:
            return None
        for txt in texts:
            try:
                fields = _read_info(txt)
            except OSError:
                continue
            if fields.get("msg_id") == msg_id:
                return txt, fields
        return None

    def audio(self, box: Box, folder: str, msg_id: str) -> Path | None:
        """The message's WAV file, or None (gone meanwhile)."""
        found = self._info(box, folder, msg_id)
        if found is None:
            return None
        wav = found[0].with_suffix(".wav")
        return wav if wav.is_file() else None

    def origtime(self, box: Box, folder: str, msg_id: str) -> datetime | None:
        found = self._info(box, folder, msg_id)
        if found is None:
            return None
        try:
            return datetime.fromtimestamp(int(found[1].get("origtime", "")), UTC)
        except (ValueError, OverflowError, OSError):
            return None

    # -- greetings -------------------------------------------------------------------------------

    def has_greeting(self, box: Box) -> bool:
        d = self.box_dir(box)
        return any((d / f"{g}{s}").exists() for g in ("unavail", "busy", "temp") for s in _GREETING_SUFFIXES)

    def write_greeting(self, box: Box, wav: bytes) -> None:
        """The uploaded greeting, as the unavailable greeting (also played when busy, unless a busy
        greeting was recorded through 001)."""
        d = self.box_dir(box)
        d.mkdir(parents=True, exist_ok=True)
        target = d / "unavail.wav"
        tmp = d / f".unavail.{os.getpid()}.{secrets.token_hex(4)}.wav"
        try:
            tmp.write_bytes(wav)
            tmp.chmod(0o644)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        for suffix in _GREETING_SUFFIXES:  # another format of the old greeting would be played first
            if suffix != ".wav":
                (d / f"unavail{suffix}").unlink(missing_ok=True)

    def remove_greetings(self, box: Box, before: datetime | None = None) -> int:
        """Remove the box's greetings (only files last changed before `before`, when given)."""
        d = self.box_dir(box)
        removed = 0
        for g in GREETINGS:
            for suffix in _GREETING_SUFFIXES:
                p = d / f"{g}{suffix}"
                try:
                    if before is not None and datetime.fromtimestamp(p.stat().st_mtime, UTC) > before:
                        continue
                    p.unlink()
                    removed += 1
                except FileNotFoundError:
                    continue
        return removed


def _read_info(path: Path) -> dict[str, str]:
    fields: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith(("[", ";")):
            fields[key.strip()] = value.strip()
    return fields
