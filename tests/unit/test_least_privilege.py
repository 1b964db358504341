"""Least privilege (issue 13, item 12), what needs no running stack: no empty or short AMI secret,
no trunk that speaks for the whole internet, an AMI user without command and config classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_control.config import check_ami_secret
from pbx_control.kernel.errors import Invalid
from pbx_control.runtime.asterisk import AsteriskInstance
from pbx_control.runtime.asterisk_config import TEMPLATE_DIR
from pbx_control.tenancy.trunks import _validate
from tests.support.counted import counts

pytestmark = [pytest.mark.unit, pytest.mark.security]


@pytest.mark.parametrize("secret", ["", "short", " " * 20, "a-good-secret-but-with-a-space "])
def test_an_empty_or_short_ami_secret_is_refused(secret: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="AMI secret"):
        check_ami_secret(secret)
    inst = AsteriskInstance(
        name="lp",
        root=None,
        sip_port=1,
        ami_port=2,
        ami_secret=secret,
        agi_url="agi://x",
        db_host="h",
        db_port=3,
        db_name="d",
        db_user="u",
        db_password="p",
        rtp_start=4,
        rtp_end=5,
        base_dir=str(tmp_path),
    )
    with pytest.raises(ValueError, match="AMI secret"):
        inst.render()  # nothing rendered for Asterisk to accept
    assert not (tmp_path / "etc" / "manager.conf").exists()


def test_a_generated_secret_is_accepted() -> None:
    check_ami_secret("x" * 16)


WIDE = ["0.0.0.0/0", "0.0.0.0", "::/0", "::", "10.0.0.0/8", "192.0.0.0/15", "2001:db8::/32", "224.0.0.1"]  # noqa: S104
NARROW = ["192.0.2.10", "192.0.2.0/24", "198.51.0.0/16", "2001:db8:1::/48", "2001:db8::5"]


def test_a_trunk_match_wider_than_the_carriers_addresses_is_refused() -> None:
    refused = 0
    for match in WIDE:
        with pytest.raises(Invalid, match="too wide"):
            _validate("carrier", "sip.example.net", 5060, match)
        refused += 1
    for match in NARROW:
        _validate("carrier", "sip.example.net", 5060, match)
    counts("security/trunk-match", cases=len(WIDE) + len(NARROW), wide_refused=f"{refused}/{len(WIDE)}")


def test_the_ami_user_has_neither_command_nor_config() -> None:
    text = (TEMPLATE_DIR / "manager.conf").read_text()
    classes = {
        line.split("=", 1)[0].strip(): {c.strip() for c in line.split("=", 1)[1].split(",")}
        for line in text.splitlines()
        if line.split("=", 1)[0].strip() in ("read", "write")
    }
    assert set(classes) == {"read", "write"}
    for granted in classes.values():
        assert not granted & {"all", "command", "config"}, granted
