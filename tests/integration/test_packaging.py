"""A plain (non-editable) install of the project migrates a database and renders the Asterisk
configuration, run from a directory outside the checkout: the migrations and the templates ship
inside the package.

The project is installed from a copy of the checkout (the build writes build/ and *.egg-info into
its source) into a fresh virtual environment. Offline and fast: the new environment sees the
dependencies, pip and setuptools of this one through a .pth line (a .pth file found there is not
run, so this environment's editable pbx_control stays out), and pip builds without isolation.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from pbx_control.runtime.postgres import PrivateCluster

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
ROOT = Path(__file__).resolve().parents[2]
_NOT_SOURCE = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


def _copy_checkout(dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n in _NOT_SOURCE or n.endswith(".egg-info")}
        if Path(folder) == ROOT / "bench":
            skip.add("results")
        return skip

    shutil.copytree(ROOT, dest, ignore=ignore)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout_s: float = 180) -> str:
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s, check=False)
    assert r.returncode == 0, f"{cmd}: {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """The bin directory of a fresh virtual environment with the project installed from a wheel."""
    src, venv = tmp_path / "src", tmp_path / "venv"
    _copy_checkout(src)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = Path(
        subprocess.run(
            [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    _run([*pip, "--no-index", "--ignore-installed", str(src)], cwd=tmp_path, env=env)
    shutil.rmtree(src)  # nothing of the source is left to lean on
    return venv / "bin"


@pytest.fixture
def empty_database(pg_cluster: PrivateCluster) -> Iterator[tuple[str, str]]:
    """A database with no tables at all (not the migrated template the db_url fixture copies)."""
    name = f"pbx_pack_{os.getpid()}"
    pg_cluster.create_database(name, drop_first=True)
    yield name, pg_cluster.url(name)

    async def drop() -> None:
        conn = await asyncpg.connect(pg_cluster.url("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


async def _tables(url: str) -> tuple[set[str], list[str]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        applied = await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        return {r["tablename"] for r in rows}, [r["name"] for r in applied]
    finally:
        await conn.close()


def test_an_installed_package_migrates_and_renders_the_asterisk_configuration(
    installed: Path, empty_database: tuple[str, str], tmp_path: Path
) -> None:
    db_name, url = empty_database
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PBX_DATABASE_URL": url, "PBX_AMI_SECRET": "packaging-test-secret"}

    where = _run(
        [str(installed / "python"), "-c", "import pbx_control; print(pbx_control.__file__)"], elsewhere, env
    )
    module = Path(where.strip())
    assert module.is_relative_to(installed.parent) and not module.is_relative_to(ROOT), where

    # (a) migrate an empty database
    out = _run([str(installed / "pbx-control"), "migrate"], elsewhere, env)
    migrations = sorted(p.name for p in (ROOT / "pbx_control" / "sql").glob("[0-9][0-9][0-9]_*.sql"))
    assert len(migrations) >= 6
    assert all(name in out for name in migrations), out
    tables, applied = asyncio.run(_tables(url))
    assert applied == migrations
    created = set()
    for path in (ROOT / "pbx_control" / "sql").glob("*.sql"):
        created |= set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)", path.read_text()))
    assert {"organizations", "users", "devices", "answer_groups", "contacts"} <= created
    assert created <= tables, created - tables
    again = _run([str(installed / "pbx-control"), "migrate"], elsewhere, env)
    assert "nothing (up to date)" in again

    # (b) render the Asterisk configuration into a directory of our choosing
    instance = tmp_path / "asterisk"
    _run([str(installed / "pbx-control"), "render-asterisk-config", "--dir", str(instance)], elsewhere, env)
    etc = instance / "etc"
    templates = sorted(p.name for p in (ROOT / "pbx_control" / "asterisk-config").glob("*.conf"))
    assert {"extensions.conf", "pjsip.conf", "asterisk.conf", "manager.conf"} <= set(templates)
    for name in templates:
        text = (etc / name).read_text()
        assert "{{" not in text, name
    assert f"astetcdir => {etc}" in (etc / "asterisk.conf").read_text()
    assert db_name in (etc / "res_pgsql.conf").read_text()
    assert "packaging-test-secret" in (etc / "manager.conf").read_text()
    assert (etc / "extensions_orgs.conf").exists()
