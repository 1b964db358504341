"""Each log line reaches stderr in one write: the FastAGI child and the service share the file, and a
line written in two parts (the JSON, then the newline) interleaved with the other process's lines."""

from __future__ import annotations

import json
import sys

import pytest
import structlog

from pbx_control import logs

pytestmark = pytest.mark.unit


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return len(text)

    def flush(self) -> None:
        pass


def test_every_line_is_one_write(monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = _Recorder()
    monkeypatch.setattr(sys, "stderr", recorder)
    try:
        logs.configure("info")
        log = logs.get_logger("test")
        for n in range(3):
            log.info("call.routed", uniqueid=f"170.{n}", organization="acme")
    finally:
        structlog.reset_defaults()
    assert len(recorder.writes) == 3
    for text in recorder.writes:
        assert text.endswith("\n") and text.count("\n") == 1
        assert json.loads(text)["event"] == "call.routed"
