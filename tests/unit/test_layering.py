"""The layering, as a test: it fails when a module imports across a line it must not cross.

- The kernel (agi/ and api/ transports, ami/, auth/, db/, dialplan/, kernel/, config, logs) never
  imports a feature folder. Only the composition (service, features, cli, runtime/, testing) sees
  them all.
- In a feature folder, only its edges may import the transports: `http*.py` and `schemas.py`
  (HTTP), `agi.py` (FastAGI) and `feature.py` and `call_path.py` (its declarations). Everything
  else is its domain.
- kernel/ is the bottom: it imports nothing else of pbx_control.
- Every feature folder is listed once in pbx_control/features.py, under its folder's name, and
  every folder with a call path once in pbx_control/call_paths.py.
- The FastAGI process's imports (service_agi.py, pbx_control.call_paths) bring no HTTP server, no
  pydantic: it stays small (issue 14's memory goal).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import pbx_control
from pbx_control.call_paths import CALL_PATHS
from pbx_control.features import FEATURES

pytestmark = [pytest.mark.unit, pytest.mark.stack]

ROOT = Path(pbx_control.__file__).parent
FEATURE_DIRS = {f.name for f in FEATURES}
KERNEL = {"agi", "ami", "api", "auth", "db", "dialplan", "kernel", "config", "logs"}
TRANSPORTS = ("pbx_control.agi", "pbx_control.api")
COMPOSITION = (
    "pbx_control.service",
    "pbx_control.features",
    "pbx_control.call_paths",
    "pbx_control.feature",
    "pbx_control.testing",
)


def _edge(path: Path) -> bool:
    return path.stem.startswith("http") or path.stem in ("schemas", "agi", "feature", "call_path")


def _imports(path: Path) -> list[str]:
    """Every pbx_control module a file imports (also inside functions and TYPE_CHECKING blocks)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out += [f"{node.module}.{a.name}" for a in node.names]
    return [m for m in out if m == "pbx_control" or m.startswith("pbx_control.")]


def _top(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules() -> list[tuple[str, Path]]:
    return [(p.relative_to(ROOT).parts[0].removesuffix(".py"), p) for p in sorted(ROOT.rglob("*.py"))]


def test_every_feature_folder_is_listed() -> None:
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "feature.py").exists()}
    assert folders == FEATURE_DIRS
    assert len(FEATURES) == len(FEATURE_DIRS)
    assert not FEATURE_DIRS & KERNEL


def test_every_call_path_is_listed() -> None:
    folders = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "call_path.py").exists()}
    assert folders == {c.name for c in CALL_PATHS}
    assert len(CALL_PATHS) == len(folders)
    assert folders <= FEATURE_DIRS


def test_the_fastagi_process_imports_no_http_server_or_pydantic() -> None:
    """What the FastAGI child imports to serve calls (service_agi._child), in a fresh interpreter."""
    code = (
        "import sys\n"
        "import pbx_control.service_agi, pbx_control.agi, pbx_control.call_paths\n"
        "import pbx_control.db.pool, pbx_control.dialplan.sync, pbx_control.feature\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    top = set(found.stdout.split())
    assert "pbx_control" in top and "asyncpg" in top  # the check sees what was imported
    assert top.isdisjoint({"aiohttp", "pydantic", "pydantic_core", "bcrypt", "aiosmtplib"})


def test_kernel_never_imports_a_feature() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {m}"
        for top, path in _modules()
        if top in KERNEL
        for m in _imports(path)
        if _top(m) in FEATURE_DIRS or m.startswith(COMPOSITION)
    ]
    assert bad == []


def test_feature_domain_never_imports_a_transport() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {m}"
        for top, path in _modules()
        if top in FEATURE_DIRS and not _edge(path)
        for m in _imports(path)
        if m.startswith(TRANSPORTS) or m.startswith(COMPOSITION)
    ]
    assert bad == []


def test_kernel_package_is_the_bottom() -> None:
    bad = [
        f"{path.relative_to(ROOT)} imports {m}"
        for top, path in _modules()
        if top == "kernel"
        for m in _imports(path)
        if _top(m) != "kernel"
    ]
    assert bad == []


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The scanner itself: a domain module importing api is found."""
    bad = tmp_path / "decision.py"
    bad.write_text("def f():\n    from pbx_control.api.context import Ctx\n")
    assert "pbx_control.api.context" in _imports(bad)
    assert not _edge(bad) and _edge(tmp_path / "http_users.py")
