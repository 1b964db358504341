"""The guard: failed SIP logins from Asterisk's security events; blocks recorded in sip_blocks
(PostgreSQL) and enforced by Asterisk itself as res_pjsip ACL objects in its astdb.

res_pjsip_acl runs before anything else on every request and answers a denied source address 403
(sorcery.conf [acl]: `acl = astdb,pbx_guard`, so the objects live under family pbx_guard/acl, one
JSON object set `{"deny": "<address>/32"}` each, key `block-<address>`). The service writes them
with AMI DBPut and removes them with DBDel (AMI class `system`, which it has anyway). Every
`sweep_s` it deletes the blocks whose time has passed (its clock) and makes the astdb match the
table, so a block lifted by hand in SQL ends within a sweep, and one written while AMI was away is
enforced when it is back (also at every AMI (re)connect). PostgreSQL away: blocks in force stay in
force (until it is back), new ones are still enforced (in astdb) but not recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

import asyncpg
from panoramisk.message import Message

from pbx_control.ami import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.kernel.clock import Clock
from pbx_control.kernel.periodic import PeriodicWorker
from pbx_control.logs import get_logger
from pbx_control.sipguard.counter import Address, Block, FailureCounter, remote_address

log = get_logger(__name__)

FAMILY = "pbx_guard/acl"  # <sorcery.conf's astdb prefix>/<object type>
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


def acl_key(address: Address) -> str:
    return f"block-{address}"


def acl_value(address: Address) -> str:
    return json.dumps({"deny": f"{address}/{address.max_prefixlen}"}, separators=(",", ":"))


def acl_addresses(entries: Sequence[Mapping[str, object]]) -> set[Address]:
    """The blocked addresses among DBGetTree's entries of FAMILY (each Key the full astdb path,
    `/pbx_guard/acl/block-<address>`; keys not ours are ignored)."""
    found: set[Address] = set()
    for entry in entries:
        if str(entry.get("Event", "")) != "DBGetTreeResponse":
            continue
        key = str(entry.get("Key", "")).rsplit("/", 1)[-1]
        if not key.startswith("block-"):
            continue
        with contextlib.suppress(ValueError):
            found.add(ipaddress.ip_address(key.removeprefix("block-")))
    return found


class SipGuard(PeriodicWorker):
    """Every `sweep_s` (kernel/periodic.py): expired blocks deleted, astdb made to match."""

    name = "sip-guard"

    def __init__(
        self,
        pool: asyncpg.Pool,
        counter: FailureCounter,
        clock: Clock,
        ami: AmiClient | None = None,
        *,
        sweep_s: float = 5.0,
    ) -> None:
        super().__init__(sweep_s)
        self._pool = pool
        self.counter = counter
        self._clock = clock
        self._ami = ami
        self._pending: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()
        self.failures_seen = 0
        self.blocked_total = 0
        self.lifted_total = 0

    def attach(self, ami: AmiClient, events: tuple[str, ...]) -> None:
        self._ami = ami
        for name in events:
            ami.on_event(name, self.on_security_event)
        ami.on_ready(self.reconcile)

    def on_security_event(self, event: Message) -> None:
        """A failed login (ChallengeResponseFailed, InvalidPassword, InvalidAccountID)."""
        address = remote_address(str(event.get("RemoteAddress", "") or ""))
        if address is None:
            return
        self.failures_seen += 1
        block = self.counter.failed(address, self._clock())
        if block is not None:
            self._spawn(self._block(block, str(event.get("Event", ""))))

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _block(self, block: Block, event: str) -> None:
        self.blocked_total += 1
        log.warning(
            "sip_guard.blocked",
            address=str(block.address),
            failures=block.failures,
            last_event=event,
            until=block.until.isoformat(),
        )
        async with self._lock:  # not between a reconcile's read of the table and of the astdb
            await self._put(block.address)  # enforced first: the guesser is refused from now on
            try:
                await self._pool.execute(
                    "INSERT INTO sip_blocks (address, failures, blocked_at, until) VALUES ($1, $2, $3, $4)"
                    " ON CONFLICT (address) DO UPDATE SET failures = EXCLUDED.failures,"
                    " blocked_at = EXCLUDED.blocked_at, until = EXCLUDED.until",
                    block.address,
                    block.failures,
                    block.since,
                    block.until,
                )
            except _DB_ERRORS as exc:  # enforced, not recorded: lifted by the next reconcile
                log.error("sip_guard.block_not_recorded", address=str(block.address), error=str(exc))

    async def _put(self, address: Address) -> None:
        if self._ami is None or not self._ami.connected:
            return  # the reconcile at the next (re)connect writes it
        try:
            await self._ami.send(
                {"Action": "DBPut", "Family": FAMILY, "Key": acl_key(address), "Val": acl_value(address)},
                timeout_s=5,
            )
        except AmiError as exc:
            log.error("sip_guard.enforce_failed", address=str(address), error=str(exc))

    async def _delete(self, address: Address) -> None:
        assert self._ami is not None
        try:
            await self._ami.send({"Action": "DBDel", "Family": FAMILY, "Key": acl_key(address)}, timeout_s=5)
        except AmiError as exc:
            log.warning("sip_guard.lift_failed", address=str(address), error=str(exc))

    async def sweep(self) -> int:
        """Delete the blocks whose time has passed; returns how many."""
        rows = await self._pool.fetch(
            "DELETE FROM sip_blocks WHERE until <= $1 RETURNING address", self._clock()
        )
        for r in rows:
            self.counter.forget(r["address"])
            self.lifted_total += 1
            log.info("sip_guard.lifted", address=str(r["address"]))
        return len(rows)

    async def reconcile(self) -> None:
        """Make Asterisk's ACLs the blocks of sip_blocks (none while AMI or PostgreSQL is away)."""
        if self._ami is None or not self._ami.connected:
            return
        async with self._lock:
            try:
                rows = await self._pool.fetch("SELECT address FROM sip_blocks")
            except _DB_ERRORS as exc:
                log.warning("sip_guard.reconcile_skipped", error=str(exc))
                return
            wanted: set[Address] = {r["address"] for r in rows}
            try:
                response = await self._ami.send({"Action": "DBGetTree", "Family": FAMILY}, timeout_s=5)
                messages = response if isinstance(response, list) else [response]
                present = acl_addresses([dict(m.items()) for m in messages])
            except AmiError as exc:
                if "not found" not in str(exc).lower():  # no entry at all is "not found"
                    log.warning("sip_guard.reconcile_skipped", error=str(exc))
                    return
                present = set()
            for address in wanted - present:
                await self._put(address)
            for address in present - wanted:
                await self._delete(address)
                self.counter.forget(address)
                log.info("sip_guard.lifted", address=str(address), by="sip_blocks")

    async def run_once(self) -> int:
        try:
            await self.sweep()
        except _DB_ERRORS as exc:
            log.warning("sip_guard.sweep_failed", error=str(exc))
        await self.reconcile()
        return 0

    async def stop(self) -> None:
        await super().stop()
        for task in list(self._pending):
            task.cancel()
