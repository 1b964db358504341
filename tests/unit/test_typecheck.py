"""The static checks, as tests: `make test` fails when the types break (mypy, configured in
pyproject.toml: strict on pbx_control/ and bench/, every body checked in tests/) or ruff finds a
lint error or an unformatted file.

Each runs the tool of this virtual environment in a subprocess from the project root; mypy keeps
its cache in .mypy_cache, so after the first run it takes about a second.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.stack]

ROOT = Path(__file__).resolve().parents[2]
RUFF_PATHS = ("pbx_control", "tests", "bench")
MYPY_PATHS = ("pbx_control", "bench", "tests")  # [tool.mypy] files


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )


def test_mypy_finds_no_error() -> None:
    # Files, strictness (strict on pbx_control, the tests.* override for tests/) and per-library
    # settings come from [tool.mypy] in pyproject.toml.
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"Success: no issues found in (\d+) source files", result.stdout)
    assert found, result.stdout
    ours = [p for d in MYPY_PATHS for p in (ROOT / d).rglob("*.py") if "node_modules" not in p.parts]
    assert int(found[1]) >= len(ours), (
        f"mypy checked {found[1]} files, pbx_control, bench and tests have {len(ours)}"
    )


def test_ruff_check_is_clean() -> None:
    result = _run("ruff", "check", *RUFF_PATHS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is() -> None:
    result = _run("ruff", "format", "--check", *RUFF_PATHS)
    assert result.returncode == 0, result.stdout + result.stderr
