"""Spoken prompts: espeak-ng speaks a sentence, sox makes it 8 kHz mono 16-bit WAV for Asterisk.

Files are named by a hash of (text, voice), so the same sentence is made once and a changed
activity, end time or name gives a new file. Generation runs when an activity is set (API request)
or by the refresher, never on a call's path: the dialplan plays a prompt only if its file exists.
The file is written under a temporary name and renamed, so Asterisk never plays half a file.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from pbx_control.kernel import ids
from pbx_control.kernel.offload import run_program
from pbx_control.logs import get_logger

log = get_logger(__name__)

VOICES = {"sv": "sv", "en": "en-us"}
SUFFIX = ".wav"
TIMEOUT_S = 15.0


def prompt_key(text: str, voice: str) -> str:
    return hashlib.sha256(f"{voice}\x00{text}".encode()).hexdigest()[:32]


def prompt_path(sounds_dir: Path, key: str) -> Path:
    if not ids.PROMPT.fullmatch(key):
        raise ValueError(f"bad prompt key {key!r}")
    return sounds_dir / f"{key}{SUFFIX}"


async def _run(*cmd: str, nice: int) -> None:
    code, err = await run_program(*cmd, timeout_s=TIMEOUT_S, nice=nice)
    if code is None:
        raise RuntimeError(f"{cmd[0]} timed out")
    if code != 0:
        raise RuntimeError(f"{cmd[0]} failed ({code}): {err[-300:]}")


async def ensure_prompt(sounds_dir: Path, text: str, language: str, *, nice: int = 0) -> str:
    """Make the prompt for `text` unless it exists; return its key (the file name without suffix).
    nice: run the synthesis at that lower CPU priority (kernel/offload.run_program).

    The text goes to espeak-ng as one argument after `--` (never through a shell), so it cannot
    become an option or a command.
    """
    voice = VOICES.get(language, "sv")
    key = prompt_key(text, voice)
    target = prompt_path(sounds_dir, key)
    # Two quick local file system calls; the slow work (espeak-ng, sox) runs in subprocesses.
    if target.exists():
        return key
    sounds_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
    unique = f"{os.getpid()}.{secrets.token_hex(4)}"
    raw = target.with_name(f".{key}.{unique}.raw.wav")
    tmp = target.with_name(f".{key}.{unique}.tmp.wav")
    try:
        await _run("espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), "--", text, nice=nice)
        await _run(
            "sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(tmp), nice=nice
        )
        tmp.chmod(0o644)
        os.replace(tmp, target)
    finally:
        for p in (raw, tmp):
            p.unlink(missing_ok=True)
    log.info("prompt.generated", prompt=key, language=language, chars=len(text))
    return key
