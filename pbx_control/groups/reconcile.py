"""Members added to a group's queue in Asterisk directly (CLI `queue add member`, AMI QueueAdd, a
phone's own feature code) are settled against the database, which wins.

Realtime members cannot drift: app_queue rereads them from the views at each call. The only thing
Asterisk can hold on its own is a *dynamic* member. An allowed user's device (PJSIP/<device>) or
our own member interface added that way is taken as that user logging in: the login is stored and
the dynamic duplicate removed (the realtime row rings them). Anything else is removed.

While connected, every QueueMemberAdded event is settled at once. What was added while no AMI
connection watched is found after the (re)connect: queue by queue (a QueueStatus without a queue
name would make app_queue load all of them, see waiting.py), and only when this Asterisk was
watched before (a global variable set at the first connection to it says so): an Asterisk that
has just started has no dynamic members (queues.conf: persistentmembers = no).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import asyncpg

from pbx_control.ami import AmiClient
from pbx_control.ami.actions import Response, first_message
from pbx_control.groups.waiting import OUR_QUEUE
from pbx_control.kernel import ids
from pbx_control.logs import get_logger

log = get_logger(__name__)
WATCHED = "PBX_CONTROL_WATCHED"  # global variable: this Asterisk has had a connection from us
_PJSIP = re.compile(f"PJSIP/({ids.ENDPOINT.pattern})")
_LOCAL = re.compile(r"^Local/[0-9]{4}-([0-9]{1,18})@pbx-group-member(/n)?$")

_LOGIN_BY_DEVICE = """
UPDATE answer_group_members m SET logged_in = true, changed_at = now()
  FROM devices d
 WHERE m.group_id = $1 AND d.sip_username = $2 AND m.user_id = d.user_id
RETURNING m.user_id
"""
_NAMES = "SELECT name FROM answer_group_queue_names ORDER BY name"
_LOGIN_BY_USER = """
UPDATE answer_group_members SET logged_in = true, changed_at = now()
 WHERE group_id = $1 AND user_id = $2
RETURNING user_id
"""


class Reconciler:
    def __init__(self, pool: asyncpg.Pool, ami: AmiClient) -> None:
        self.pool = pool
        self.ami = ami

    def attach(self) -> None:
        self.ami.on_event("QueueMemberAdded", self.on_member_added)
        self.ami.on_ready(self.on_ready)

    async def on_member_added(self, event: Mapping[str, object]) -> None:
        if str(event.get("Membership", "")).lower() != "dynamic":
            return
        await self.settle(str(event.get("Queue", "")), str(event.get("Interface", "")))

    async def on_ready(self) -> None:
        watched = await self.ami.send({"Action": "Getvar", "Variable": WATCHED}, timeout_s=10)
        if not first_value(watched):
            await self.ami.send({"Action": "Setvar", "Variable": WATCHED, "Value": "1"}, timeout_s=10)
            return  # just started: nothing was added behind our back
        names = [r["name"] for r in await self.pool.fetch(_NAMES)]
        settled = 0
        for name in names:  # one after the other: other actions wait behind one at most
            response = await self.ami.send({"Action": "QueueStatus", "Queue": name}, timeout_s=10)
            for msg in response if isinstance(response, list) else [response]:
                if msg.get("Event") == "QueueMember" and str(msg.get("Membership", "")).lower() == "dynamic":
                    await self.settle(
                        str(msg.get("Queue", "")), str(msg.get("Location", msg.get("Interface", "")))
                    )
                    settled += 1
        log.info("groups.reconcile_swept", queues=len(names), settled=settled)

    async def settle(self, queue: str, interface: str) -> None:
        """Store an allowed login, then remove the dynamic member in any case."""
        m = OUR_QUEUE.match(queue)
        if m is None:
            return  # not one of ours
        group_id = int(m.group(1))
        user_id = None
        if pjsip := _PJSIP.fullmatch(interface):
            user_id = await self.pool.fetchval(_LOGIN_BY_DEVICE, group_id, pjsip.group(1))
        elif local := _LOCAL.match(interface):
            user_id = await self.pool.fetchval(_LOGIN_BY_USER, group_id, int(local.group(1)))
        if user_id is not None:
            await self.pool.execute(
                "UPDATE answer_groups SET generation = generation + 1 WHERE id = $1 AND strategy = 'linear'",
                group_id,
            )
        log.info("groups.reconciled", queue=queue, interface=interface, logged_in_user=user_id)
        await self.ami.send({"Action": "QueueRemove", "Queue": queue, "Interface": interface})


def first_value(response: Response) -> str:
    """A Getvar answer's Value (empty when the variable is not set)."""
    value = first_message(response).get("Value", "")
    return "" if value in (None, "(null)") else str(value)
