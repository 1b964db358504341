"""Asterisk's cache of SIP accounts kept true to the database.

Asterisk keeps the endpoints, auths and aors it read from the realtime views, and the trunks'
identification, in sorcery memory caches (asterisk-config/sorcery.conf: no lifetime, so an
outage of PostgreSQL of any length leaves registered phones and the carrier working). They are
only ever dropped on purpose:

* a change of a row the views are made of NOTIFYs `pbx_sip_objects` with the object's id
  (sql/020_sip_cache.sql); this worker LISTENs and has Asterisk expire that object
  (`SorceryMemoryCacheExpireObject`), or, for a trunk, the whole identify cache
  (`SorceryMemoryCacheExpire`: a full backend cache cannot drop one object);
* whenever it may have missed a NOTIFY (its LISTEN connection (re)made, AMI (re)connected), it
  expires every cache: the next request of each object reads the database again.

Runs in a process with the AMI bridge; without one nothing is cached past a restart of it either.
"""

from __future__ import annotations

import asyncio
import contextlib

from pbx_control.ami import AmiClient
from pbx_control.ami.errors import AmiError
from pbx_control.kernel import ids
from pbx_control.kernel.listen import listen_forever
from pbx_control.logs import get_logger

log = get_logger(__name__)

CHANNEL = "pbx_sip_objects"
# The caches' names in sorcery.conf (name=...).
OBJECT_CACHES = ("pbx_endpoint", "pbx_auth", "pbx_aor")
IDENTIFY_CACHE = "pbx_identify"
ALL_CACHES = (*OBJECT_CACHES, IDENTIFY_CACHE)


class SipCacheInvalidator:
    """LISTENs on its own connection, reconnecting (1 s doubling to 10 s) while PostgreSQL is away,
    and checks the connection every `ping_s`."""

    def __init__(self, database_url: str, ami: AmiClient, *, ping_s: float = 10.0) -> None:
        self._dsn = database_url
        self._ami = ami
        self._ping_s = ping_s
        self._task: asyncio.Task[None] | None = None
        self.expired_objects = 0
        self.expired_all = 0

    def attach(self) -> None:
        """Expire everything after every AMI (re)connect (a reload or a restart of Asterisk)."""
        self._ami.on_ready(self.expire_all)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="sip-cache-invalidator")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        await listen_forever(
            self._dsn,
            CHANNEL,
            self._notified,
            log=log,
            event="sip_cache.listen_lost",
            ping_s=self._ping_s,
            retry_s=1.0,
            retry_max_s=10.0,
            on_connected=self.expire_all,  # whatever changed while nobody listened
        )

    def _notified(self, _conn: object, _pid: int, _channel: str, data: object) -> None:
        payload = str(data)
        if ids.ENDPOINT.fullmatch(payload):  # only our own ids reach an AMI header
            task = asyncio.get_running_loop().create_task(self.expire_object(payload))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def expire_object(self, object_id: str) -> None:
        """Drop one SIP object from Asterisk's caches (a trunk: the whole identify cache)."""
        if not self._ami.connected:
            return  # expire_all runs when AMI is back
        for cache in OBJECT_CACHES:
            action = {"Action": "SorceryMemoryCacheExpireObject", "Cache": cache, "Object": object_id}
            await self._send(action)
        if object_id.startswith("trunk_"):
            await self._send({"Action": "SorceryMemoryCacheExpire", "Cache": IDENTIFY_CACHE})
        self.expired_objects += 1
        log.info("sip_cache.expired", object=object_id)

    async def expire_all(self) -> None:
        if not self._ami.connected:
            return
        for cache in ALL_CACHES:
            await self._send({"Action": "SorceryMemoryCacheExpire", "Cache": cache})
        self.expired_all += 1
        log.info("sip_cache.expired_all")

    async def _send(self, action: dict[str, str]) -> None:
        try:
            await self._ami.send(action, timeout_s=5)
        except AmiError as exc:  # not cached (nothing to drop), or AMI went away meanwhile
            log.debug("sip_cache.expire_refused", cache=action["Cache"], error=str(exc))
