"""PBX_AGI_PROCESS (own by default, shared on request, anything else own), and the Settings the
service hands its FastAGI process (to_json / from_json: every field, its type kept)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from pbx_control.config import Settings

pytestmark = [pytest.mark.unit]


@pytest.mark.parametrize(
    ("value", "mode"),
    [(None, "own"), ("own", "own"), ("shared", "shared"), ("", "own"), ("thread", "own"), ("SHARED", "own")],
)
def test_agi_process_setting(monkeypatch: pytest.MonkeyPatch, value: str | None, mode: str) -> None:
    if value is None:
        monkeypatch.delenv("PBX_AGI_PROCESS", raising=False)
    else:
        monkeypatch.setenv("PBX_AGI_PROCESS", value)
    assert Settings.from_env().agi_process == mode


@pytest.mark.parametrize(
    "settings",
    [
        Settings(),
        Settings(
            database_url="postgresql://pbx_service:p%40ss@127.0.0.1:5/pbx",
            agi_port=4599,
            agi_deadline_s=0.25,
            agi_process="shared",
            components=("agi",),
            ami_secret="a-secret-of-twenty-chars",
            asterisk_etc=Path("/tmp/etc"),
            prompts_dir=Path("/tmp/prompts"),
            sip_tls_cert=Path("/tmp/cert.pem"),
            asterisk_root=None,
            run_port_base=17000,
            smtp_password="x",
        ),
    ],
)
def test_settings_survive_the_pipe_to_the_fastagi_process(settings: Settings) -> None:
    again = Settings.from_json(settings.to_json())
    assert again == settings
    for f in fields(Settings):
        assert type(getattr(again, f.name)) is type(getattr(settings, f.name)), f.name
