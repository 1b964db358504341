"""The README's layout table names every folder of the project, and only folders that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.unit, pytest.mark.stack]

ROOT = Path(__file__).resolve().parents[2]
_ROW = re.compile(r"^\| `([^`]+)/`", re.M)


def _table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### How it is put together") :]
    section = section[: section.index("\n### ", 5)]
    return set(_ROW.findall(section))


def _folders() -> set[str]:
    package = {
        f"pbx_control/{p.name}"
        for p in (ROOT / "pbx_control").iterdir()
        if p.is_dir() and p.name != "__pycache__"
    }
    top = {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "pbx_control"
    }
    top -= {"build", "__pycache__"} | {p.name for p in ROOT.iterdir() if p.name.endswith(".egg-info")}
    return package | top


def test_every_folder_is_in_the_layout_table() -> None:
    assert _folders() - _table() == set()


def test_every_row_is_a_folder() -> None:
    assert {row for row in _table() if not (ROOT / row).is_dir()} == set()


_PATH = re.compile(r"`([a-z_][a-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)*/?)(?::([A-Za-z_]\w*))?`")
GENERATED = ("bench/results/", "webapp/dist", "tests/artifacts/")  # written by make bench / setup / tests


@pytest.mark.parametrize("doc", ["README.md", "pbx_control/asterisk-config/README.md"])
def test_files_the_docs_name_exist(doc: str) -> None:
    """Every relative path a README names in backticks (with a `:name` it defines, if given)."""
    missing = []
    for path, name in _PATH.findall((ROOT / doc).read_text()):
        if "/" not in path or path.startswith(GENERATED):
            continue
        bases = (ROOT, ROOT / "pbx_control", ROOT / "tests", (ROOT / doc).parent)
        found = next((b / path for b in bases if (b / path).exists()), None)
        if found is None:
            missing.append(path)
        elif name and not re.search(rf"\b(def|class) {name}\b|^{name}\b", found.read_text(), re.M):
            missing.append(f"{path}:{name}")
    assert missing == []
