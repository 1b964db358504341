"""The action lane: a second AMI login of the same (least-privilege) user, with events off, that
carries the actions API requests wait on.

Why: on the main login every action's response comes behind whatever events Asterisk queued before
it (under 450 live calls, thousands a second), and is read by the same socket reader that parses and
dispatches them; a blind transfer's Redirect waited up to a second for its answer. On this login
Asterisk sends nothing but responses (`Events: off`), so an answer is read as soon as it is written.

What stays on the main login (AmiClient decides, `lane_may_carry`): an async Originate (it resolves
at its OriginateResponse event, which this login never receives) and the snapshots whose answer must
be ordered against the event stream (CoreShowChannels, DeviceStateList, the ConfBridge lists). When
the lane is not connected, actions go on the main login as before.

It connects and reconnects like the main login (backoff 0.5 s doubling up to 10 s, +/-20 % jitter),
drops a connection that leaves a Ping or any action unanswered (so what a stuck Asterisk has not
read yet never runs late, after the request gave up), and fails the actions still waiting when its
connection goes (AmiUnavailable), never re-sending them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from panoramisk.message import Message

from pbx_control.ami._panoramisk import PANORAMISK_LOG, ClientProtocol, LossReason, PassiveManager, SafeAction
from pbx_control.ami.actions import PendingAction, first_message, prepare_action
from pbx_control.ami.errors import AmiError, AmiLoginFailed, AmiTimeout, AmiUnavailable
from pbx_control.ami.parts import backoff_delay
from pbx_control.config import Settings
from pbx_control.logs import get_logger

log = get_logger("pbx_control.ami.lane")

# Snapshots ordered against the event stream (PendingAction.done, CallModel.rederive) stay on main.
_ORDERED = frozenset({"coreshowchannels", "devicestatelist", "confbridgelistrooms", "confbridgelist"})
_TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})


def lane_may_carry(fields: Mapping[str, str | list[str]]) -> bool:
    """Whether an action (prepared, with its Async header) may go on the lane."""
    lowered = {key.lower(): value for key, value in fields.items()}
    name = str(lowered.get("action", "")).lower()
    if name in _ORDERED or name in ("login", "logoff", "events", "waitevent"):
        return False
    return not (name == "originate" and str(lowered.get("async", "")).lower() in _TRUE)


class ActionLane:
    """One AMI login with events off, for actions only (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        *,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
    ) -> None:
        self._settings = settings
        self._action_timeout = action_timeout
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._backoff = (backoff_initial, backoff_max)
        self._manager = PassiveManager(self._protocol_lost, log=PANORAMISK_LOG, encoding="utf-8")
        self._manager.register_event("*", self._ignore)
        self._protocol: ClientProtocol | None = None
        self._lost: asyncio.Future[str] | None = None
        self._logged_in = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stuck = False  # an action went unanswered: this login is dropped once idle
        self.connections = 0

    @property
    def connected(self) -> bool:
        return (
            self._logged_in
            and not self._stuck
            and self._protocol is not None
            and not self._protocol.closed
            and self._lost is not None
            and not self._lost.done()
        )

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="ami-action-lane")

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    def submit(self, fields: Mapping[str, str | list[str]], timeout_s: float | None = None) -> PendingAction:
        """Send a prepared action now (raises AmiUnavailable when the lane is down)."""
        if not self.connected or self._protocol is None or self._lost is None:
            raise AmiUnavailable("the AMI action lane is not connected", action=str(fields.get("Action", "")))
        prepared = SafeAction(dict(fields), as_list=None)
        protocol = self._protocol
        protocol.send(prepared, as_list=None)

        def unanswered() -> None:
            # Asterisk stuck (or frozen): no new action goes here (the main login carries them), and
            # once no other action waits on this login it is dropped, so what Asterisk has not read
            # yet never runs late (a Setvar of a request that already answered 504).
            log.warning("ami.lane_action_unanswered", action=str(fields.get("Action", "")))
            self._stuck = True
            self._drop_when_idle(protocol)

        return PendingAction(
            prepared, protocol, self._lost, timeout_s or self._action_timeout, on_unanswered=unanswered
        )

    # -- connection ------------------------------------------------------------------------------

    @staticmethod
    def _ignore(_manager: PassiveManager, _event: Message) -> None:
        return None  # events are off; whatever comes (none should) is not ours to handle

    async def _run(self) -> None:
        attempt = 0
        s = self._settings
        while True:
            established = False
            try:
                established = await self._session()
            except AmiLoginFailed as exc:
                log.error("ami.lane_login_failed", reason=exc.message, host=s.ami_host, port=s.ami_port)
            except (OSError, TimeoutError, AmiUnavailable) as exc:
                log.warning("ami.lane_connect_failed", error=type(exc).__name__, detail=str(exc)[:200])
            except Exception:
                log.exception("ami.lane_failed")
            if established:
                attempt = 0
            delay = backoff_delay(attempt, initial=self._backoff[0], maximum=self._backoff[1])
            attempt += 1
            await asyncio.sleep(delay)

    async def _session(self) -> bool:
        loop = asyncio.get_running_loop()
        s = self._settings
        _transport, protocol = await asyncio.wait_for(
            loop.create_connection(lambda: ClientProtocol(self._manager), s.ami_host, s.ami_port),
            self._connect_timeout,
        )
        lost: asyncio.Future[str] = loop.create_future()
        self._protocol, self._lost = protocol, lost
        self._manager.protocol = protocol
        established = False
        try:
            login = SafeAction(
                {"Action": "Login", "Username": s.ami_username, "Secret": s.ami_secret, "Events": "off"},
                as_list=False,
            )
            protocol.send(login, as_list=False)
            answer = await PendingAction(login, protocol, lost, self._action_timeout).result(check=False)
            first = first_message(answer)
            if not first.success:
                raise AmiLoginFailed(str(first.get("Message") or "Authentication failed"), action="Login")
            established = True
            self._stuck = False
            self._logged_in = True
            self._manager.authenticated = True
            self.connections += 1
            log.info("ami.lane_connected", host=s.ami_host, port=s.ami_port, username=s.ami_username)
            await self._watch(protocol, lost)
        finally:
            self._logged_in = False
            if not lost.done():
                lost.set_result("closed by us" if self._stopping else "session ended")
            protocol.close()
            self._manager.awaiting_actions.clear()
            if established and not self._stopping:
                log.warning("ami.lane_lost", reason=lost.result())
        return established

    async def _watch(self, protocol: ClientProtocol, lost: asyncio.Future[str]) -> None:
        """Until the loss; a Ping left unanswered ends the connection."""
        while not lost.done():
            waiter: set[asyncio.Future[Any]] = {lost}
            await asyncio.wait(waiter, timeout=self._ping_interval)
            if lost.done():
                return
            if self._stuck:  # out of use (submit refuses): _drop_when_idle ends it once idle
                continue
            try:
                await self.submit(prepare_action({"Action": "Ping"})).result(self._ping_timeout)
            except AmiTimeout:
                log.warning("ami.lane_ping_timeout", timeout_s=self._ping_timeout)
                self._protocol_lost(protocol, f"no answer to Ping within {self._ping_timeout:g} s")
                protocol.transport.abort()
                return
            except AmiUnavailable:
                return
            except AmiError as exc:
                log.warning("ami.lane_ping_failed", error=exc.message)

    def _drop_when_idle(self, protocol: ClientProtocol) -> None:
        if protocol.closed or protocol is not self._protocol:
            return
        if not protocol.responses:  # nothing else waits for an answer here
            self._protocol_lost(protocol, "an action was not answered in time")
            protocol.transport.abort()
            return
        asyncio.get_running_loop().call_later(0.05, self._drop_when_idle, protocol)

    def _protocol_lost(self, protocol: ClientProtocol, exc: LossReason) -> None:
        lost = self._lost
        if protocol is not self._protocol or lost is None or lost.done():
            return
        lost.set_result(str(exc) if exc is not None else "connection closed by Asterisk")
