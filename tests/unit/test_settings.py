"""Settings is the only reader of the environment, and README.md's settings table lists exactly
the variables it reads."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest

from pbx_control import config
from pbx_control.config import Settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pbx_control"
CONFIG = PACKAGE / "config.py"
README = ROOT / "README.md"
_ENV_READERS = {"environ", "environb", "getenv", "getenvb"}
_NAME = re.compile(r"`(PBX_[A-Z0-9_]+)`")


def _environment_reads(path: Path) -> list[str]:
    """Where a module touches os.environ / os.getenv (also `from os import environ`)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in _ENV_READERS:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Name) and node.id in _ENV_READERS:
            found.append(f"line {node.lineno}: {node.id}")
        elif isinstance(node, ast.ImportFrom) and any(a.name in _ENV_READERS for a in node.names):
            found.append(f"line {node.lineno}: from {node.module} import")
    return found


def test_only_config_reads_the_environment() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 20
    assert _environment_reads(CONFIG), "the check no longer sees config.py reading the environment"
    readers = [
        f"{path.relative_to(ROOT)} {hit}"
        for path in modules
        if path != CONFIG
        for hit in _environment_reads(path)
    ]
    assert readers == [], "read the environment in pbx_control/config.py (Settings) only"


def test_the_check_sees_every_way_of_reading(tmp_path: Path) -> None:
    samples = [
        "import os\nx = os.environ['PBX_X']\n",
        "import os\nx = os.getenv('PBX_X')\n",
        "from os import environ\nx = environ.get('PBX_X')\n",
        "import os as o\nx = o.environ.copy()\n",
    ]
    module = tmp_path / "module.py"
    for text in samples:
        module.write_text(text)
        assert _environment_reads(module), text
    module.write_text("import os\nx = os.path.join('a', 'environ')\n")
    assert _environment_reads(module) == []


class _RecordingEnviron(Mapping[str, str]):
    """An empty environment that remembers every name asked for (get and `in` go through here)."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _names_from_env(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The variables Settings.from_env reads, found by running it in an empty, recording environment."""
    env = _RecordingEnviron()
    with monkeypatch.context() as m:
        m.setattr(config, "os", SimpleNamespace(environ=env))
        Settings.from_env()
    return env.asked


def _readme_settings_tables() -> list[list[str]]:
    """The PBX_* names in each table of README.md's settings section, in order."""
    lines = README.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"#+ Settings\b", line))
    tables: list[list[str]] = []
    in_table = False
    for line in lines[start + 1 :]:
        if line.startswith("#"):
            break
        if not line.startswith("|"):
            in_table = False
            continue
        if not in_table:
            tables.append([])
            in_table = True
            continue  # the header row
        tables[-1] += _NAME.findall(line.split("|")[1])
    return tables


def test_readme_settings_table_lists_what_settings_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    read = _names_from_env(monkeypatch)
    assert len(read) > 20 and all(name.startswith("PBX_") for name in read), read
    table = _readme_settings_tables()[0]
    assert len(table) == len(set(table)), "a setting is listed twice"
    assert sorted(read - set(table)) == [], "read by Settings.from_env, missing from README.md's table"
    assert sorted(set(table) - read) == [], "in README.md's table, not read by Settings.from_env"


def test_readme_rows_for_scripts_and_tests_are_read_by_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """The section's other tables: knobs of scripts/, tests/ and bench/, each still read there."""
    read = _names_from_env(monkeypatch)
    others = [name for table in _readme_settings_tables()[1:] for name in table]
    assert others, "README.md's table of script and test settings is gone"
    assert sorted(set(others) & read) == [], "a Settings variable belongs in the first table"
    this = Path(__file__).resolve()
    sources = [
        p.read_text()
        for pattern in ("scripts/*.sh", "tests/**/*.py", "bench/**/*.py")
        for p in ROOT.glob(pattern)
        if p.resolve() != this
    ]
    unread = [name for name in others if not any(re.search(rf"\b{name}\b", s) for s in sources)]
    assert unread == [], "in README.md's settings section, read by no script or test"


def _clear_pbx_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("PBX_"):
            monkeypatch.delenv(name)


def test_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_pbx_environment(monkeypatch)
    s = Settings.from_env()
    assert s == Settings()
    assert s.state_dir == Path("/var/lib/pbx-control")
    assert s.asterisk_root == Path("/var/lib/pbx-control/asterisk-root")
    assert s.pg_bin == Path("/usr/lib/postgresql/15/bin")
    assert (s.trunk_host, s.trunk_port) == ("127.0.0.2", 5080)
    assert s.run_port_base is None
    assert s.bcrypt_rounds == 12
    assert (s.sip_domain, s.sip_port) == ("127.0.0.1", 5060)
    assert (s.smtp_host, s.smtp_port, s.smtp_tls, s.smtp_username, s.smtp_from) == (
        "",
        25,
        "none",
        "",
        "pbx@localhost",
    )


def test_smtp_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_pbx_environment(monkeypatch)
    for name, value in {
        "PBX_SMTP_HOST": "relay.example.net",
        "PBX_SMTP_PORT": "587",
        "PBX_SMTP_TLS": "starttls",
        "PBX_SMTP_USERNAME": "pbx",
        "PBX_SMTP_PASSWORD": "s3cret",
        "PBX_SMTP_FROM": "noreply@example.net",
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings.from_env()
    assert (s.smtp_host, s.smtp_port, s.smtp_tls) == ("relay.example.net", 587, "starttls")
    assert (s.smtp_username, s.smtp_password, s.smtp_from) == ("pbx", "s3cret", "noreply@example.net")
    assert "s3cret" not in repr(s)


def test_stack_and_demo_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_pbx_environment(monkeypatch)
    for name, value in {
        "PBX_STATE_DIR": "/srv/pbx",
        "PBX_ASTERISK_ROOT": "/srv/root",
        "PBX_PG_BIN": "/opt/pg/bin",
        "PBX_TRUNK_HOST": "192.0.2.7",
        "PBX_TRUNK_PORT": "5070",
        "PBX_RUN_PORT_BASE": "21000",
        "PBX_BCRYPT_ROUNDS": "5",
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings.from_env()
    assert s.state_dir == Path("/srv/pbx")
    assert s.asterisk_root == Path("/srv/root")
    assert s.pg_bin == Path("/opt/pg/bin")
    assert (s.trunk_host, s.trunk_port) == ("192.0.2.7", 5070)
    assert s.run_port_base == 21000
    assert s.bcrypt_rounds == 5


@pytest.mark.parametrize(
    ("name", "value", "field", "expected"),
    [
        ("PBX_ASTERISK_ROOT", "native", "asterisk_root", None),
        ("PBX_RUN_PORT_BASE", "", "run_port_base", None),
        ("PBX_BCRYPT_ROUNDS", "junk", "bcrypt_rounds", 12),
        ("PBX_SMTP_TLS", "ssl", "smtp_tls", "none"),
        ("PBX_SMTP_PORT", "junk", "smtp_port", 25),
    ],
)
def test_special_values(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, field: str, expected: object
) -> None:
    _clear_pbx_environment(monkeypatch)
    monkeypatch.setenv(name, value)
    assert getattr(Settings.from_env(), field) == expected
