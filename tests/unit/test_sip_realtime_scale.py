"""Asterisk must start at 100,000 devices (issue 14): PJSIP realtime never lists all endpoints, auths
or AORs. Asterisk asks for all of them at start-up (res_pjsip's load_all_endpoints, chan_pjsip's
device states, pjsip_options.c's qualify synchronize) into sorcery's sorted list, one insert
walking the list: quadratic, 10,000 devices took 8 s to boot and 100,000 never finished. These
checks keep the configuration that refuses it, and the one consequence in view: without those
start-up lists a phone's PJSIP endpoint state stays offline (device state UNAVAILABLE when idle),
so nothing may hint a PJSIP device."""

from __future__ import annotations

import re

import pytest

from pbx_control.groups.lamps import lamp_device
from pbx_control.runtime.asterisk_config import TEMPLATE_DIR

pytestmark = [pytest.mark.unit]


def _section(conf: str, name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current = None
    for raw in (TEMPLATE_DIR / conf).read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            current = line.strip("[]")
        elif current == name and "=" in line:
            key, value = (part.strip() for part in line.split("=", 1))
            out[key] = value
    return out


def test_pjsip_realtime_refuses_to_list_every_endpoint_auth_and_aor() -> None:
    mappings = _section("sorcery.conf", "res_pjsip")
    for kind, view in (("endpoint", "ps_endpoints"), ("auth", "ps_auths"), ("aor", "ps_aors")):
        assert mappings[kind] == f"realtime,{view},allow_unqualified_fetch=no", mappings


def test_no_start_up_scan_for_unsolicited_mwi() -> None:
    assert _section("pjsip.conf", "global")["mwi_disable_initial_unsolicited"] == "yes"


def test_no_hint_names_a_pjsip_device() -> None:
    hinted = [
        line
        for conf in sorted(TEMPLATE_DIR.iterdir(), key=lambda c: c.name)
        if conf.name.endswith(".conf")
        for line in conf.read_text().splitlines()
        if re.search(r",hint,", line.split(";", 1)[0])
    ]
    assert not [line for line in hinted if "PJSIP/" in line], hinted
    # the generated night lamps (groups/lamps.py) are custom device states
    assert lamp_device(7).startswith("Custom:")
