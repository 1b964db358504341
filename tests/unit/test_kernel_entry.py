"""A process started through pbx_control.kernel.entry runs its module without console-only imports."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pbx_control.kernel import entry

pytestmark = pytest.mark.unit

PROBE = """
import json, sys
import structlog
from pbx_control import logs
logs.configure("info")
logs.get_logger("probe").info("probe.started", args=sys.argv[1:], main=__name__)
print(json.dumps({"rich": "rich" in sys.modules and sys.modules["rich"] is not None,
                  "argv0": sys.argv[0]}))
"""


def _run(tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "entry_probe.py").write_text(PROBE)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    return subprocess.run(command, capture_output=True, text=True, check=True, env=env)


def test_this_venv_has_rich_so_the_check_means_something(tmp_path: Path) -> None:
    assert importlib.util.find_spec("rich") is not None
    plain = _run(tmp_path, sys.executable, "-m", "entry_probe")
    assert '"rich": true' in plain.stdout  # structlog imports it when it is there


def test_the_entry_runs_the_module_as_main_with_its_arguments_and_without_rich(tmp_path: Path) -> None:
    out = _run(tmp_path, *entry.command("entry_probe"), "--flag", "x")
    assert '"rich": false' in out.stdout
    assert '"argv0": "' in out.stdout and 'entry_probe.py"' in out.stdout  # as `python -m` sets it
    # structlog still logs its JSON lines, with the module run as __main__ and its own arguments
    assert '"event": "probe.started"' in out.stderr and '"main": "__main__"' in out.stderr
    assert '"args": ["--flag", "x"]' in out.stderr


def test_every_process_of_the_service_starts_through_it() -> None:
    root = Path(__file__).resolve().parents[2]
    main = (root / "pbx_control" / "__main__.py").read_text()
    assert main.index("keep_out_console_libraries()") < main.index("from pbx_control.cli")
    for path, module in [
        ("pbx_control/service_agi.py", '"pbx_control.service_agi"'),
        ("bench/env.py", '"bench.service"'),
    ]:
        assert f"command({module})" in (root / path).read_text(), path
    assert "entry.command(__name__)" in (root / "pbx_control/kernel/offload.py").read_text()
