"""Night-lamp hints rendered from the database: one per group, in its organization's context."""

from __future__ import annotations

from pathlib import Path

import pytest

from pbx_control.groups import lamps
from pbx_control.groups.reconcile import _LOCAL, _PJSIP
from pbx_control.groups.waiting import OUR_QUEUE

pytestmark = [pytest.mark.unit, pytest.mark.groups]


def test_render_puts_each_hint_in_its_organizations_context() -> None:
    text = lamps.render([("beta", "20", 9), ("acme", "21", 4), ("acme", "20", 3)])
    assert text.splitlines()[2:] == [
        "[org-acme]",
        "exten => *4620,hint,Custom:pbxnight3",
        "exten => *4620,1,Set(__PBX_ORG=acme)",
        " same => n,Goto(pbx-from-device,${EXTEN},1)",
        "exten => *4621,hint,Custom:pbxnight4",
        "exten => *4621,1,Set(__PBX_ORG=acme)",
        " same => n,Goto(pbx-from-device,${EXTEN},1)",
        "",
        "[org-beta]",
        "exten => *4620,hint,Custom:pbxnight9",
        "exten => *4620,1,Set(__PBX_ORG=beta)",
        " same => n,Goto(pbx-from-device,${EXTEN},1)",
    ]


@pytest.mark.parametrize("row", [("acme]\n[x", "20", 1), ("acme", "20,hint", 1), ("acme", "0", 1)])
def test_render_refuses_what_could_inject(row: tuple[str, str, int]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        lamps.render([row])


def test_write_reports_a_change_only_once(tmp_path: Path) -> None:
    assert lamps.write(tmp_path, "x") is True
    assert lamps.write(tmp_path, "x") is False
    assert (tmp_path / lamps.FILE_NAME).read_text() == "x"


@pytest.mark.parametrize(
    ("queue", "interface", "ours"),
    [
        ("g12v3", "PJSIP/acme_1001_1", True),
        ("g12v3", "Local/0001-7@pbx-group-member/n", True),
        ("support", "PJSIP/acme_1001_1", False),
        ("g12v3", "SIP/acme_1001_1", False),
        ("g12v3", "Local/0001-7@other/n", False),
    ],
)
def test_reconcile_recognises_our_queues_and_interfaces(queue: str, interface: str, ours: bool) -> None:
    matched = bool(OUR_QUEUE.match(queue)) and bool(_PJSIP.match(interface) or _LOCAL.match(interface))
    assert matched is ours
