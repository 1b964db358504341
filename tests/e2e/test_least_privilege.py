"""Least privilege on the running stack (issue 13, item 12): the service's own AMI login cannot
run CLI commands nor write configuration; a trunk for the whole internet is refused."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E
from tests.support.ami_events import AmiEvents
from tests.support.api import Api
from tests.support.counted import counts

pytestmark = [pytest.mark.e2e, pytest.mark.security]

REFUSED_ACTIONS = [
    ("Command", {"Command": "core show version"}),
    ("Command", {"Command": "dialplan add extension 9@default into default replace"}),
    ("UpdateConfig", {"SrcFilename": "extensions.conf", "DstFilename": "extensions.conf"}),
    ("CreateConfig", {"Filename": "pbx-test-created.conf"}),
]
# Still allowed through `system` (which Reload and SorceryMemoryCacheExpire* need, Asterisk has no
# narrower class for them): GetConfig, ModuleLoad, Originate of System(). README, Security.


def test_the_services_ami_login_runs_no_cli_and_touches_no_configuration(e2e: E2E, platform: Api) -> None:
    inst = e2e.stack.asterisk_instance()
    denied = []
    with AmiEvents(e2e.stack.ports.ami, inst.ami_username, e2e.stack.ami_secret) as ami:
        for action, headers in REFUSED_ACTIONS:
            reply = ami.action(action, **headers)
            if reply.get("Response") == "Error" and "Permission denied" in reply.get("Message", ""):
                denied.append(action)
        allowed = ami.action("Reload", Module="pbx_config")  # what the service does need
    refused_trunks = 0
    for match in ("0.0.0.0/0", "::/0", "10.0.0.0/8"):
        body = {"name": "everyone", "host": "sip.example.net", "match": match}
        reply = platform.post("/trunks", body, expect=400)
        refused_trunks += reply["error"]["code"] == "invalid"
    line = counts(
        "security/least-privilege",
        ami_actions_tried=len(REFUSED_ACTIONS),
        denied=len(denied),
        wide_trunks_refused=f"{refused_trunks}/3",
    )
    assert len(denied) == len(REFUSED_ACTIONS), (denied, line)
    assert allowed.get("Response") == "Success", allowed
    assert refused_trunks == 3, line
