"""Waiting for a control service started as a subprocess (end-to-end tests, the benchmark)."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path


def wait_healthy(proc: subprocess.Popen[bytes], api: str, log_path: Path, timeout_s: float = 30) -> None:
    """Return once `api`/health answers 200; raise if the process exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"control service exited; see {log_path}")
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=1) as r:  # noqa: S310 - our own URL
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"control service not healthy within {timeout_s}s; see {log_path}")
