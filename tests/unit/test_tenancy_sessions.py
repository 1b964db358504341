"""What is sent to Asterisk to retire a device: an exact astdb key range and an anchored channel
pattern, only ever for a name that needs no quoting; without AMI nothing is sent and nothing fails."""

from __future__ import annotations

import pytest

from pbx_control.tenancy.sessions import DeviceSessions, channels_pattern, contact_keys

pytestmark = [pytest.mark.unit, pytest.mark.tenancy]


def test_the_commands_name_exactly_the_device() -> None:
    listed = [
        {"Event": "DBGetTreeResponse", "Family": "registrar/contact", "Key": "acme_1001_1;@9f2a"},
        {"Event": "DBGetTreeResponse", "Family": "registrar", "Key": "contact/acme_1001_1;@77b0"},
        {"Event": "DBGetTreeResponse", "Family": "registrar/contact", "Key": "acme_1001_10;@aa01"},
        {"Event": "DBGetTreeResponse", "Family": "registrar/contact", "Key": "acme_1001;@bb02"},
        {"Event": "DBGetTreeComplete"},
    ]
    assert contact_keys("acme_1001_1", listed) == ["acme_1001_1;@9f2a", "acme_1001_1;@77b0"]
    assert channels_pattern("acme_1001_1") == "/^PJSIP\\/acme_1001_1-[0-9a-f]+$/"


@pytest.mark.parametrize(
    "name", ["", "ab", "Acme_1", "a' OR 1=1 --", 'a"; core stop now', "a.*", "a/b", "x" * 65]
)
def test_a_name_that_is_not_a_sip_username_is_never_sent(name: str) -> None:
    with pytest.raises(ValueError, match="not a sip_username"):
        contact_keys(name, [])
    with pytest.raises(ValueError, match="not a sip_username"):
        channels_pattern(name)


async def test_without_ami_nothing_is_sent_and_nothing_fails() -> None:
    await DeviceSessions(None).retire(["acme_1001_1"])
