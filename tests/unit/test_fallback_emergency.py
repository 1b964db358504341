"""The dialplan fallback lets the same emergency numbers out as the routed path."""

from __future__ import annotations

import re
from pathlib import Path

from pbx_control.routing.dialled import EMERGENCY

CONF = Path(__file__).parents[2] / "pbx_control" / "asterisk-config" / "extensions.conf"


def test_the_fallback_knows_every_emergency_number_of_the_routed_path() -> None:
    text = CONF.read_text()
    m = re.search(r'REGEX\("\^\(([0-9|]+)\)\$" \$\{EXTEN\}\)\}\]\?outbound\)', text)
    assert m is not None, "the fallback's emergency branch is missing"
    assert set(m.group(1).split("|")) == EMERGENCY
