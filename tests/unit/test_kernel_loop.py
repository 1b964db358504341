"""kernel/loop.run_main: the service's processes run on the loop their Settings name."""

from __future__ import annotations

import asyncio

import pytest

from pbx_control.config import Settings
from pbx_control.kernel.loop import run_main


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_uvloop_by_default_and_asyncio_when_asked() -> None:
    assert Settings().event_loop == "uvloop"
    assert run_main(_loop_module()).startswith("uvloop")
    assert run_main(_loop_module(), "asyncio").startswith("asyncio")


@pytest.mark.parametrize(
    ("value", "expected"), [("asyncio", "asyncio"), ("uvloop", "uvloop"), ("trio", "uvloop")]
)
def test_the_setting_takes_only_the_known_loops(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("PBX_EVENT_LOOP", value)
    assert Settings.from_env().event_loop == expected
