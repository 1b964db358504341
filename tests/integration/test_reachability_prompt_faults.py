"""The prompt worker under faults: announcements that keep failing neither block newer ones nor are
retried on every pass (they back off, and are made once speech works again); and a sweep that runs
while an activity takes an old file into use again never leaves that activity pointing at a file
that is gone (the sweep keeps it, or the worker makes it again before it stores the key).

Speech is a stand-in here (espeak-ng is tested in tests/unit/test_reachability_activities.py): it
writes the file as ensure_prompt does, and fails for the names the test chooses."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from pbx_control.reachability import service, worker
from pbx_control.reachability.prompts import VOICES, prompt_key, prompt_path
from pbx_control.reachability.worker import PromptWorker
from pbx_control.tenancy import users
from pbx_control.testing import World

pytestmark = [pytest.mark.integration, pytest.mark.reachability, pytest.mark.faults]

ROUNDS = 20


class Speech:
    """ensure_prompt's stand-in: makes the file unless it is there; fails for `failing` names."""

    def __init__(self) -> None:
        self.failing: set[str] = set()
        self.made = 0

    async def __call__(self, sounds_dir: Path, text: str, language: str) -> str:
        if any(name in text for name in self.failing):
            raise RuntimeError("espeak-ng failed (1): cannot speak this")
        key = prompt_key(text, VOICES[language])
        path = prompt_path(sounds_dir, key)
        if not path.exists():
            path.write_bytes(b"RIFF....WAVE")
            self.made += 1
        return key


@pytest.fixture
def speech(monkeypatch: pytest.MonkeyPatch) -> Speech:
    fake = Speech()
    monkeypatch.setattr(worker, "ensure_prompt", fake)
    return fake


async def _user(pool: asyncpg.Pool, world: World, extension: str, name: str) -> int:
    user = await users.create_user(
        pool, world.orgs["alpha"], extension, name, f"u{extension}", "password-123456", "user", "sv"
    )
    return int(user["id"])


async def _in_a_meeting(pool: asyncpg.Pool, user_id: int) -> None:
    now = datetime.now(UTC)
    await service.set_activity(pool, user_id, now, activity="meeting", until_further_notice=True)


async def _prompt(pool: asyncpg.Pool, user_id: int) -> str | None:
    key: str | None = await pool.fetchval("SELECT prompt FROM user_activities WHERE user_id = $1", user_id)
    return key


async def test_failing_announcements_do_not_hold_up_newer_ones(
    db_pool: asyncpg.Pool, world: World, speech: Speech, tmp_path: Path
) -> None:
    speech.failing = {"Doomed"}
    doomed = [await _user(db_pool, world, f"20{i}", f"Doomed {i}") for i in range(3)]
    for user_id in doomed:
        await _in_a_meeting(db_pool, user_id)
    newer = await _user(db_pool, world, "2100", "Nils Ny")
    await _in_a_meeting(db_pool, newer)  # set after the failing ones
    w = PromptWorker(db_pool, tmp_path, batch=2)
    for _ in range(3):
        await w.run_once()
    assert await _prompt(db_pool, newer) is not None, "the newer announcement was never made"
    # Each failing one was tried once: it waits before the next try instead of every pass.
    assert w.failed == len(doomed)
    assert all([await _prompt(db_pool, u) is None for u in doomed])


async def test_failed_announcements_are_made_once_speech_works_again(
    db_pool: asyncpg.Pool, world: World, speech: Speech, tmp_path: Path
) -> None:
    speech.failing = {"Doomed"}
    doomed = [await _user(db_pool, world, f"20{i}", f"Doomed {i}") for i in range(2)]
    for user_id in doomed:
        await _in_a_meeting(db_pool, user_id)
    w = PromptWorker(db_pool, tmp_path, retry_base_s=0)  # due again at once
    assert await w.run_once() == 0 and w.failed == 2
    speech.failing = set()
    assert await w.run_once() == 2
    assert all([await _prompt(db_pool, u) is not None for u in doomed])


async def test_a_sweep_never_leaves_an_activity_without_its_file(
    db_pool: asyncpg.Pool, world: World, speech: Speech, tmp_path: Path
) -> None:
    user_id = world.users["alpha-user"]
    # Two workers on one prompts directory, as two API processes on one Asterisk host have.
    maker, sweeper = PromptWorker(db_pool, tmp_path), PromptWorker(db_pool, tmp_path)
    await _in_a_meeting(db_pool, user_id)
    await maker.run_once()
    key = await _prompt(db_pool, user_id)
    assert key is not None
    path = prompt_path(tmp_path, key)
    lost = swept = 0
    for _ in range(ROUNDS):
        # The file is old and nobody's: the sweep may take it...
        await service.set_activity(db_pool, user_id, datetime.now(UTC), activity="available")
        await asyncio.to_thread(os.utime, path, (0, 0))
        # ...while the same sentence is set again and the worker finds the file there.
        await _in_a_meeting(db_pool, user_id)
        _, removed = await asyncio.gather(maker.run_once(), sweeper.sweep())
        swept += removed
        assert await _prompt(db_pool, user_id) == key
        if not path.exists():  # calls would skip the announcement: the worker thinks it is made
            lost += 1
            path.write_bytes(b"RIFF....WAVE")
    print(
        f"\n{ROUNDS} rounds of a sweep beside a prompt taken into use again: the sweep removed the"
        f" file {swept} times, the worker made it {speech.made} times, {lost} times it was left missing"
    )
    assert lost == 0


async def test_a_new_sentence_is_tried_at_once_despite_the_backoff(
    db_pool: asyncpg.Pool, world: World, speech: Speech, tmp_path: Path
) -> None:
    speech.failing = {"Doomed"}
    renamed, reset = (
        await _user(db_pool, world, "2000", "Doomed A"),
        await _user(db_pool, world, "2001", "Doomed B"),
    )
    for user_id in (renamed, reset):
        await _in_a_meeting(db_pool, user_id)
    w = PromptWorker(db_pool, tmp_path)  # the next try in 10 s
    await w.run_once()
    assert w.failed == 2 and await w.run_once() == 0
    await db_pool.execute("UPDATE users SET name = 'Olle Frisk' WHERE id = $1", renamed)
    await service.set_activity(db_pool, reset, datetime.now(UTC), activity="lunch", until_further_notice=True)
    speech.failing = {"Doomed A"}  # speech would work now for both new sentences
    assert await w.run_once() == 2
