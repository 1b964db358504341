"""The control service as `python -m pbx_control serve` runs it, plus one bench hook: every FastAGI
session's server-side time (AgiServer.on_session_end) is recorded, and SIGUSR1 writes the recorded
times to $PBX_BENCH_AGI_STATS as JSON ({"ok": [seconds...], "other": {outcome: count}, "hooked":
bool}) and starts a new recording. When this process serves no FastAGI itself (the AGI server in a
process of its own), "hooked" is false and the bench reads the AGI server's `agi.session.end` log
lines instead (bench.env). Run as ``python -m bench.service`` with the usual PBX_* settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from array import array
from pathlib import Path

from pbx_control import logs
from pbx_control.config import Settings
from pbx_control.kernel.loop import run_main, settle_heap
from pbx_control.service import ControlService


class SessionRecorder:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.ok = array("d")
        self.other: dict[str, int] = {}
        self.hooked = False

    def __call__(self, outcome: str, seconds: float) -> None:
        if outcome == "ok":
            self.ok.append(seconds)
        else:
            self.other[outcome] = self.other.get(outcome, 0) + 1

    def dump(self) -> None:
        tmp = self.out.with_suffix(".tmp")
        tmp.write_text(json.dumps({"ok": list(self.ok), "other": self.other, "hooked": self.hooked}))
        tmp.replace(self.out)
        self.ok = array("d")
        self.other = {}


async def main() -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_level)
    recorder = SessionRecorder(Path(os.environ["PBX_BENCH_AGI_STATS"]))
    service = ControlService(settings)
    await service.start()
    settle_heap()
    if service.agi is not None:
        service.agi.on_session_end = recorder
        recorder.hooked = True
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, recorder.dump)
    try:
        await stop.wait()
    finally:
        await service.stop()


if __name__ == "__main__":
    run_main(main(), Settings.from_env().event_loop)
