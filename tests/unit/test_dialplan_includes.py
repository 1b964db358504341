"""Each feature's dialplan include is named after its folder and included by extensions.conf; no
include file in pbx_control/asterisk-config/ is without its feature."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pbx_control.features import FEATURES
from pbx_control.runtime.asterisk_config import TEMPLATE_DIR

pytestmark = [pytest.mark.unit]


def test_each_feature_names_its_include_after_its_folder_and_extensions_conf_includes_it() -> None:
    included = re.findall(r'^#include "([^"]+)"', (TEMPLATE_DIR / "extensions.conf").read_text(), re.M)
    owned = {f.dialplan: f.name for f in FEATURES if f.dialplan}
    for name, feature in owned.items():
        assert name == f"extensions_{feature}.conf"
        assert (TEMPLATE_DIR / name).is_file(), name
        assert name in included, name
    # The rest are written from the database by the control service (organizations' contexts).
    assert set(included) - owned.keys() == {"extensions_orgs.conf"}
    assert isinstance(TEMPLATE_DIR, Path)  # the templates are a directory on disk
    templates = {p.name for p in TEMPLATE_DIR.glob("extensions_*.conf")}
    assert templates == owned.keys()
