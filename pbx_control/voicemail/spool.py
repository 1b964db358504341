"""The box's files in app_voicemail's spool (`<spool>/<context>/<mailbox>/<Folder>/msgNNNN.{txt,wav}`).

Messages are only READ here (their audio for the app and for mail); they are moved and removed
through AMI (asterisk.py). Greetings (`unavail`, `busy`, `greet`, `temp` beside the folders) are
what app_voicemail plays to callers: the default one (greeting.py) and an uploaded one are written
here, and all are removed when the owner goes away.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from pbx_control.voicemail.box import FOLDERS, MSG_ID, Box
from pbx_control.voicemail.greeting import digest

GREETINGS = ("unavail", "busy", "greet", "temp")
_GREETING_SUFFIXES = (".wav", ".WAV", ".gsm", ".sln", ".ulaw", ".alaw", ".g722", ".wav49")


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def box_dir(self, box: Box) -> Path:
        return self.root / box.context / box.mailbox

    def boxes_with_messages(self) -> set[str]:
        """The names (`<mailbox>@<context>`) of the boxes with at least one message file, from one
        walk over the spool (a box without messages has no folder or an empty one)."""
        found: set[str] = set()
        for context in _subdirs(self.root):
            for mailbox in _subdirs(context):
                if any(f.name in FOLDERS and _has_message(f) for f in _subdirs(mailbox)):
                    found.add(f"{mailbox.name}@{context.name}")
        return found

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

    def greeting(self, box: Box, kind: str) -> bytes | None:
        """The box's unavail or busy greeting (WAV), or None."""
        if kind not in ("unavail", "busy", "temp"):
            raise ValueError(kind)
        try:
            return (self.box_dir(box) / f"{kind}.wav").read_bytes()
        except OSError:
            return None

    def greeting_changed_at(self, box: Box, kind: str) -> datetime | None:
        try:
            return datetime.fromtimestamp((self.box_dir(box) / f"{kind}.wav").stat().st_mtime, UTC)
        except OSError:
            return None

    def own_greeting(self, box: Box, default_sha: str | None) -> bool:
        """An unavailable (or temporary) greeting that is not the default one written for the box."""
        if (self.box_dir(box) / "temp.wav").exists():
            return True
        current = self.greeting(box, "unavail")
        return current is not None and digest(current) != default_sha

    def write_greeting(self, box: Box, wav: bytes, kind: str) -> None:
        """Write a greeting (written under a temporary name and renamed, so a caller never hears
        half a file)."""
        if kind not in ("unavail", "busy"):
            raise ValueError(kind)
        d = self.box_dir(box)
        d.mkdir(parents=True, exist_ok=True)
        target = d / f"{kind}.wav"
        tmp = d / f".{kind}.{os.getpid()}.{secrets.token_hex(4)}.wav"
        try:
            tmp.write_bytes(wav)
            tmp.chmod(0o644)
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

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


def _subdirs(path: Path) -> list[Path]:
    try:
        with os.scandir(path) as entries:
            return [Path(e.path) for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _has_message(folder: Path) -> bool:
    try:
        with os.scandir(folder) as entries:
            return any(e.name.startswith("msg") and e.name.endswith(".txt") for e in entries)
    except OSError:
        return False
