"""What a device leaves in Asterisk once PostgreSQL no longer has it: its registrations (contacts,
which Asterisk keeps in its own astdb, sorcery.conf) and its live calls. Removed through AMI after
the change commits, so a device deleted (alone or with its user) rings nobody and talks to nobody,
and a SIP username given to a new device never reaches the former holder's phone; a new SIP
password drops the registrations (the phone must register again, with the new one).

Asterisk has no AMI action that deletes an inbound registration: the contacts are deleted from
astdb (keys `/registrar/contact/<aor>;@<hash>`), which is where Asterisk's registrar reads them
from on every lookup: `DBGetTree` lists the registrar's contacts and `DBDel` removes exactly those
of the AOR (both in AMI's `system` class; the AMI user has no `command` right, see manager.conf).
Calls are hung up with one Hangup whose channel is a regular expression anchored on the endpoint
(`PJSIP/<name>-<id>`).
A process without AMI (PBX_COMPONENTS without ami), or Asterisk not reachable, leaves that state
behind: it is logged, and a new device's name is cleaned again when it is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pbx_control.ami.client import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.kernel.ids import ENDPOINT
from pbx_control.logs import get_logger

log = get_logger("pbx_control.tenancy.sessions")
# ENDPOINT is what tenancy/validation.py lets a sip_username be: nothing in it needs quoting or
# escaping, in SQL or in a regular expression.


CONTACTS_FAMILY = "registrar/contact"


def contact_keys(name: str, entries: Iterable[Mapping[str, object]]) -> list[str]:
    """The astdb keys (under CONTACTS_FAMILY) of AOR `name`'s contacts among DBGetTree's entries."""
    if not ENDPOINT.fullmatch(name):
        raise ValueError(f"not a sip_username: {name!r}")
    prefix = f"{CONTACTS_FAMILY}/{name};@"
    keys: list[str] = []
    for entry in entries:
        if str(entry.get("Event", "")) != "DBGetTreeResponse":
            continue
        path = f"{entry.get('Family', '')}/{entry.get('Key', '')}".strip("/")
        if path.startswith(prefix):
            keys.append(path[len(CONTACTS_FAMILY) + 1 :])
    return keys


def channels_pattern(name: str) -> str:
    """Hangup's Channel as a regular expression: every PJSIP channel of endpoint `name`."""
    if not ENDPOINT.fullmatch(name):
        raise ValueError(f"not a sip_username: {name!r}")
    return f"/^PJSIP\\/{name}-[0-9a-f]+$/"


class DeviceSessions:
    def __init__(self, ami: AmiClient | None) -> None:
        self._ami = ami

    async def drop_registrations(self, names: Iterable[str]) -> None:
        names = list(names)
        if not names:
            return
        listed = await self._list_contacts(names[0])
        if listed is None:
            return
        for name in names:
            for key in contact_keys(name, listed):
                await self._act(name, {"Action": "DBDel", "Family": CONTACTS_FAMILY, "Key": key})

    async def _list_contacts(self, name: str) -> list[Mapping[str, object]] | None:
        """Every contact the registrar holds (None when AMI cannot say; logged)."""
        if self._ami is None:
            log.warning(
                "device_live_state_left",
                sip_username=name,
                action="DBGetTree",
                reason="no AMI in this process",
            )
            return None
        try:
            response = await self._ami.send({"Action": "DBGetTree", "Family": CONTACTS_FAMILY})
        except AmiError as exc:
            if "not found" in str(exc).lower():  # no contact at all
                return []
            log.warning("device_live_state_left", sip_username=name, action="DBGetTree", reason=str(exc))
            return None
        messages = response if isinstance(response, list) else [response]
        return [dict(m.items()) for m in messages]

    async def hang_up(self, names: Iterable[str]) -> None:
        for name in names:
            await self._act(name, {"Action": "Hangup", "Channel": channels_pattern(name), "Cause": 16})

    async def retire(self, names: Iterable[str]) -> None:
        """A device is gone: nothing rings it any more, then its calls end."""
        names = list(names)
        await self.drop_registrations(names)
        await self.hang_up(names)

    async def _act(self, name: str, action: Mapping[str, object]) -> None:
        what = str(action["Action"])
        if self._ami is None:
            log.warning(
                "device_live_state_left", sip_username=name, action=what, reason="no AMI in this process"
            )
            return
        try:
            await self._ami.send(action)
        except AmiError as exc:
            log.warning("device_live_state_left", sip_username=name, action=what, reason=str(exc))
