"""kernel.files.replace_if_changed: the file is replaced whole, only when its content changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_control.kernel.files import replace_if_changed

pytestmark = pytest.mark.unit


def test_written_when_new_or_changed_and_left_alone_when_the_same(tmp_path: Path) -> None:
    target = tmp_path / "extensions-orgs.conf"
    assert replace_if_changed(target, b"one\n") is True
    assert target.read_bytes() == b"one\n"
    before = target.stat().st_ino
    assert replace_if_changed(target, b"one\n") is False
    assert target.stat().st_ino == before  # untouched
    assert replace_if_changed(target, b"two\n") is True
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_ino != before  # a new file renamed over the old one, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extensions-orgs.conf"]  # no temporary left
