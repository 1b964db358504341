"""A call is held when its phone holds it (Hold/Unhold events) or when the app did (pbx-hold)."""

from __future__ import annotations

import pytest

from pbx_control.ami.calls import CallModel
from pbx_control.callcontrol.views import calls_of

pytestmark = [pytest.mark.unit, pytest.mark.calls]

CHAN = {"Channel": "PJSIP/acme_1001_desk-00000001", "Uniqueid": "1.1", "AccountCode": "acme"}


@pytest.mark.parametrize(
    ("events", "held"),
    [
        ([], False),
        ([{"Event": "Hold", **CHAN, "MusicClass": "default"}], True),
        ([{"Event": "Hold", **CHAN}, {"Event": "Unhold", **CHAN}], False),
        ([{"Event": "Newexten", **CHAN, "Context": "pbx-hold", "Exten": "holder"}], True),
        (
            [
                {"Event": "Newexten", **CHAN, "Context": "pbx-hold", "Exten": "holder"},
                {"Event": "BridgeEnter", **CHAN, "BridgeUniqueid": "b1"},
            ],
            False,  # resumed: bridged again, still at that dialplan location
        ),
    ],
)
def test_held(events: list[dict[str, str]], held: bool) -> None:
    model = CallModel()
    model.apply({"Event": "Newchannel", **CHAN, "ChannelStateDesc": "Up"})
    for event in events:
        model.apply(event)
    assert [v.held for v in calls_of(model, ["acme_1001_desk"])] == [held]
