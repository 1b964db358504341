"""AmiClient: the one long-lived AMI login of this process, on panoramisk 1.4.

Lifecycle, run by one background task started by `start()`:

    connect (timeout) -> Login -> connected -> FullyBooted -> on_ready callbacks -> ready
    ... until the connection is lost: EOF or error, a Shutdown event, a Ping left unanswered.

Then it waits (exponential backoff: 0.5 s doubling up to 10 s, +/-20 % jitter, back to the start
after every successful login) and begins again, forever, until `stop()`. A refused login, a refused
or hanging TCP connect are all just a failed attempt. Actions still waiting for their response when
the connection goes fail with AmiUnavailable and are never re-sent (see _panoramisk.py for why we do
not let panoramisk do its own reconnecting).

Event callbacks run inside the socket reader, in the order Asterisk sent the events, with the call's
uniqueid, linkedid and organization bound in structlog's contextvars; a coroutine callback runs as
its own task (and so loses that ordering).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from panoramisk.message import Message

from pbx_control.ami._panoramisk import PANORAMISK_LOG, ClientProtocol, LossReason, PassiveManager, SafeAction
from pbx_control.ami.actions import PendingAction, Response, command_output, first_message, prepare_action
from pbx_control.ami.errors import AmiError, AmiLoginFailed, AmiTimeout, AmiUnavailable
from pbx_control.ami.lane import ActionLane, lane_may_carry
from pbx_control.ami.parts import (
    Backoff,
    EventCallback,
    EventSubscription,
    backoff_delay,
    call_ids,
    describe_loss,
)
from pbx_control.config import Settings
from pbx_control.logs import get_logger

log = get_logger("pbx_control.ami.client")

# What this login receives: channels and bridges (call), queues (agent), FullyBooted and Shutdown
# (system), UserEvent (user), failed SIP logins for the guard (security; it also brings two events
# per authenticated request, ChallengeSent and SuccessfulAuth, which nothing reads). Not dialplan
# (a Newexten and VarSets for every step of every call), agi, cdr, cel, dtmf, reporting...: under
# call load they were most of the service's work (make bench) and nothing here reads them. Action
# responses (CoreShowChannels) come regardless.
EVENT_CLASSES = "system,call,agent,user,security"

ReadyCallback = Callable[[], Awaitable[None] | None]

_ASYNC_TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})
_DEFAULT_ORIGINATE_TIMEOUT_MS = 30000  # Asterisk's default for Originate's Timeout header


class AmiClient:
    """One long-lived AMI login (see the module docstring for the lifecycle)."""

    def __init__(
        self,
        settings: Settings,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 10.0,
        backoff_jitter: float = 0.2,
        action_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ping_interval: float = 10.0,
        ping_timeout: float = 5.0,
        fully_booted_timeout: float = 30.0,
        ready_retry_initial: float = 1.0,
        ready_retry_max: float = 30.0,
    ) -> None:
        self._settings = settings
        self._backoff: Backoff = {
            "initial": backoff_initial,
            "maximum": backoff_max,
            "jitter": backoff_jitter,
        }
        self._action_timeout = action_timeout
        self._connect_timeout = connect_timeout
        self._ping_interval = ping_interval
        self._ping_timeout = ping_timeout
        self._fully_booted_timeout = fully_booted_timeout
        self._ready_retry_initial = ready_retry_initial
        self._ready_retry_max = ready_retry_max
        self._manager = PassiveManager(self._protocol_lost, log=PANORAMISK_LOG, encoding="utf-8")
        self._manager.register_event("*", self._dispatch)
        self._subscriptions: list[EventSubscription] = []
        self._ready_callbacks: list[ReadyCallback] = []
        self._protocol: ClientProtocol | None = None
        self._lost: asyncio.Future[str] | None = None
        self._logged_in = False
        self._fully_booted = False
        self._boot_signal = asyncio.Event()
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._stopping = False
        self.last_connected_at: datetime | None = None
        # The action lane (lane.py): a second login, events off, for the actions requests wait on.
        self.lane: ActionLane | None = None

    # -- state -----------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Logged in, and the connection has not been lost since."""
        return (
            self._logged_in
            and self._protocol is not None
            and not self._protocol.closed
            and self._lost is not None
            and not self._lost.done()
        )

    @property
    def fully_booted(self) -> bool:
        """Asterisk said FullyBooted on the current connection."""
        return self.connected and self._fully_booted

    @property
    def ready(self) -> bool:
        """Connected and the on_ready callbacks have run for this connection."""
        return self.connected and self._ready.is_set()

    async def wait_ready(self, timeout_s: float | None = None) -> None:
        """Wait until `ready` (raises TimeoutError after `timeout_s` seconds)."""
        await asyncio.wait_for(self._ready.wait(), timeout_s)

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start connecting in the background. Returns at once, whether Asterisk is up or not."""
        if self._task is not None and not self._task.done():
            return
        if self.lane is not None:
            await self.lane.start()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="ami-client")

    async def stop(self) -> None:
        self._stopping = True
        if self.lane is not None:
            await self.lane.stop()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})
        tasks = list(self._tasks)
        for pending in tasks:
            pending.cancel()
        if tasks:
            await asyncio.wait(tasks)
        log.info("ami.stopped")

    async def _run(self) -> None:
        attempt = 0
        settings = self._settings
        where = {"host": settings.ami_host, "port": settings.ami_port, "username": settings.ami_username}
        while True:
            established = False
            try:
                established = await self._session()
            except AmiLoginFailed as exc:
                log.error("ami.login_failed", reason=exc.message, **where)
            except (OSError, TimeoutError, AmiUnavailable) as exc:
                log.warning("ami.connect_failed", error=describe_loss(exc), **where)
            except Exception:
                log.exception("ami.session_failed", **where)
            if established:
                attempt = 0
            delay = backoff_delay(attempt, **self._backoff)
            attempt += 1
            log.info("ami.reconnect_scheduled", delay_s=round(delay, 3), attempt=attempt)
            await asyncio.sleep(delay)

    async def _session(self) -> bool:
        """One connection, from connect to loss. True if the login succeeded."""
        loop = asyncio.get_running_loop()
        settings = self._settings
        self._boot_signal.clear()
        self._fully_booted = False
        log.debug("ami.connecting", host=settings.ami_host, port=settings.ami_port)
        _transport, protocol = await asyncio.wait_for(
            loop.create_connection(
                lambda: ClientProtocol(self._manager), settings.ami_host, settings.ami_port
            ),
            self._connect_timeout,
        )
        lost: asyncio.Future[str] = loop.create_future()
        self._protocol, self._lost = protocol, lost
        self._manager.protocol = protocol
        established = False
        watchdog: asyncio.Task[None] | None = None
        try:
            await self._login(protocol, lost)
            established = True
            self._logged_in = True
            self._manager.authenticated = True
            self.last_connected_at = datetime.now(UTC)
            log.info(
                "ami.connected",
                host=settings.ami_host,
                port=settings.ami_port,
                username=settings.ami_username,
                protocol_version=protocol.version,
            )
            watchdog = asyncio.create_task(self._watchdog(protocol, lost))
            await self._serve(lost)
        finally:
            self._logged_in = False
            self._fully_booted = False
            self._ready.clear()
            if watchdog is not None:
                watchdog.cancel()
            if not lost.done():
                lost.set_result("closed by us" if self._stopping else "session ended")
            protocol.close()
            self._manager.awaiting_actions.clear()
            if established:
                if self._stopping:
                    log.info("ami.disconnected", reason=lost.result())
                else:
                    log.warning("ami.connection_lost", reason=lost.result())
        return established

    async def _login(self, protocol: ClientProtocol, lost: asyncio.Future[str]) -> None:
        settings = self._settings
        action = SafeAction(
            {
                "Action": "Login",
                "Username": settings.ami_username,
                "Secret": settings.ami_secret,
                "Events": EVENT_CLASSES,
            },
            as_list=False,
        )
        protocol.send(action, as_list=False)
        response = await PendingAction(action, protocol, lost, self._action_timeout).result(check=False)
        first = first_message(response)
        if not first.success:
            raise AmiLoginFailed(str(first.get("Message") or "Authentication failed"), action="Login")

    async def _serve(self, lost: asyncio.Future[str]) -> None:
        """Run on_ready after FullyBooted (again if Asterisk says it again) until the loss."""
        timeout: float | None = self._fully_booted_timeout
        while True:
            booted = await self._wait_signal(self._boot_signal, lost, timeout)
            if lost.done():
                return
            if booted:
                self._boot_signal.clear()
            else:
                log.warning(
                    "ami.fully_booted_missing",
                    waited_s=timeout,
                    hint="no FullyBooted event: does the AMI user have read=system? going on without it",
                )
            timeout = None
            await self._run_ready(lost)
            if lost.done():
                return
            self._ready.set()
            log.info("ami.ready", fully_booted=self._fully_booted, callbacks=len(self._ready_callbacks))

    @staticmethod
    async def _wait_signal(event: asyncio.Event, lost: asyncio.Future[str], within_s: float | None) -> bool:
        waiter = asyncio.ensure_future(event.wait())
        waiters: set[asyncio.Future[Any]] = {waiter, lost}  # futures of different results
        try:
            await asyncio.wait(waiters, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        return event.is_set()

    async def _run_ready(self, lost: asyncio.Future[str]) -> None:
        for callback in list(self._ready_callbacks):
            try:
                await _run(callback)
            except AmiTimeout as exc:
                # Asterisk is busy (just started, a big reload): the state is re-derived later.
                log.warning("ami.ready_callback_timed_out", callback=_name(callback), error=exc.message)
                self._spawn(self._retry_ready(callback, lost), _name(callback))
            except AmiUnavailable as exc:
                log.warning("ami.ready_callback_interrupted", callback=_name(callback), error=exc.message)
                return
            except Exception:
                log.exception("ami.ready_callback_failed", callback=_name(callback))

    async def _retry_ready(self, callback: ReadyCallback, lost: asyncio.Future[str]) -> None:
        """Run a ready callback again, with backoff, until it no longer times out or the connection
        it was for is lost (the next connection runs every callback anyway)."""
        for attempt in itertools.count():
            delay = backoff_delay(attempt, initial=self._ready_retry_initial, maximum=self._ready_retry_max)
            await asyncio.wait({lost}, timeout=delay)
            if lost.done():
                return
            try:
                await _run(callback)
            except AmiTimeout as exc:
                log.warning(
                    "ami.ready_callback_timed_out",
                    callback=_name(callback),
                    error=exc.message,
                    retry=attempt + 1,
                )
                continue
            except AmiUnavailable:
                return
            log.info("ami.ready_callback_recovered", callback=_name(callback), retries=attempt + 1)
            return

    async def _watchdog(self, protocol: ClientProtocol, lost: asyncio.Future[str]) -> None:
        """panoramisk's pinger never checks the answer; ours drops a connection that stopped talking."""
        while not lost.done():
            await asyncio.sleep(self._ping_interval)
            if lost.done():
                return
            try:
                await self._submit_on(protocol, lost, {"Action": "Ping"}).result(self._ping_timeout)
            except AmiTimeout:
                log.warning("ami.ping_timeout", timeout_s=self._ping_timeout)
                self._protocol_lost(protocol, f"no answer to Ping within {self._ping_timeout:g} s")
                protocol.transport.abort()
                return
            except AmiUnavailable:
                return
            except AmiError as exc:
                log.warning("ami.ping_failed", error=exc.message)

    def _protocol_lost(self, protocol: ClientProtocol, exc: LossReason) -> None:
        lost = self._lost
        if protocol is not self._protocol or lost is None or lost.done():
            return
        lost.set_result(describe_loss(exc))

    # -- actions ---------------------------------------------------------------------------------

    def submit(self, action: Mapping[str, object]) -> PendingAction:
        """Send an action now and return at once; `await pending.result()` for the response. On the
        action lane when it is connected and may carry it (lane.py), else on this login.

        Raises AmiUnavailable (without waiting) when not connected.
        """
        if not self.connected or self._protocol is None or self._lost is None:
            settings = self._settings
            raise AmiUnavailable(
                f"not connected to the Asterisk AMI at {settings.ami_host}:{settings.ami_port}",
                action=str(action.get("Action", "")),
            )
        lane = self.lane
        if lane is not None and lane.connected:
            fields = prepare_action(action)
            if lane_may_carry(fields):
                return lane.submit(fields, self._timeout_for(fields))
        return self._submit_on(self._protocol, self._lost, action)

    def _submit_on(
        self, protocol: ClientProtocol, lost: asyncio.Future[str], action: Mapping[str, object]
    ) -> PendingAction:
        fields = prepare_action(action)
        prepared = SafeAction(fields, as_list=None)
        protocol.send(prepared, as_list=None)
        return PendingAction(prepared, protocol, lost, self._timeout_for(fields))

    def _timeout_for(self, fields: Mapping[str, str | list[str]]) -> float:
        lowered = {key.lower(): value for key, value in fields.items()}
        if str(lowered.get("action", "")).lower() == "originate" and (
            str(lowered.get("async", "")).lower() in _ASYNC_TRUE
        ):
            # Resolves at OriginateResponse: after the ring timeout at worst.
            try:
                ring_ms = int(str(lowered.get("timeout", _DEFAULT_ORIGINATE_TIMEOUT_MS)))
            except ValueError:
                ring_ms = _DEFAULT_ORIGINATE_TIMEOUT_MS
            return ring_ms / 1000 + self._action_timeout
        return self._action_timeout

    async def send(self, action: Mapping[str, object], *, timeout_s: float | None = None) -> Response:
        """Send an action and return its response (see PendingAction.result for the shape).

        Raises AmiUnavailable when not connected (at once) or when the connection is lost before the
        response, AmiTimeout after `timeout_s` (default: action_timeout; for an async Originate its
        ring Timeout plus that), AmiError on an error response.
        """
        return await self.submit(action).result(timeout_s)

    async def command(self, cli: str, *, timeout_s: float | None = None) -> str:
        """Run a CLI command (e.g. `dialplan reload`) and return its output text.

        A command Asterisk reports as failed raises AmiError with the output in its message.
        """
        response = await self.send({"Action": "Command", "Command": cli}, timeout_s=timeout_s)
        return command_output(first_message(response))

    # -- subscriptions ---------------------------------------------------------------------------

    def on_event(self, pattern: str, callback: EventCallback) -> Callable[[], None]:
        """Call `callback(event)` for every event whose name matches `pattern` ('*', a name, a glob;
        case-insensitive). Returns a function that unsubscribes."""
        subscription = EventSubscription(pattern, callback)
        self._subscriptions.append(subscription)

        def unsubscribe() -> None:
            if subscription in self._subscriptions:
                self._subscriptions.remove(subscription)

        return unsubscribe

    def on_ready(self, callback: ReadyCallback) -> Callable[[], None]:
        """Call `callback()` (plain or async) after every (re)connection once Asterisk said
        FullyBooted: the place to re-derive state. Callbacks run one after the other, in the order
        they were registered; one that fails is logged and the next runs. If the client is ready
        already, the new callback also runs now."""
        self._ready_callbacks.append(callback)
        if self.ready:
            self._spawn_ready(callback)

        def unsubscribe() -> None:
            if callback in self._ready_callbacks:
                self._ready_callbacks.remove(callback)

        return unsubscribe

    def _spawn_ready(self, callback: ReadyCallback) -> None:
        self._spawn(_run(callback), _name(callback))

    def _dispatch(self, _manager: PassiveManager, event: Message) -> None:
        name = str(event.get("Event", ""))
        if name == "FullyBooted":
            self._fully_booted = True
            self._boot_signal.set()
            log.info("ami.fully_booted", status=event.get("Status", ""), uptime=event.get("Uptime", ""))
        subscriptions = [sub for sub in self._subscriptions if sub.matches(name)]
        if not subscriptions:
            return
        with structlog.contextvars.bound_contextvars(**call_ids(event)):
            for subscription in subscriptions:
                try:
                    result = subscription.callback(event)
                    if inspect.isawaitable(result):
                        self._spawn(result, _name(subscription.callback))
                except Exception:
                    # Raised inside data_received, it would make asyncio drop the connection.
                    log.exception(
                        "ami.event_callback_failed", ami_event=name, callback=_name(subscription.callback)
                    )

    def _spawn(self, awaitable: Awaitable[Any], what: str) -> None:
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)

        def done(finished: asyncio.Future[Any]) -> None:
            self._tasks.discard(finished)
            if not finished.cancelled() and finished.exception() is not None:
                log.error("ami.callback_failed", callback=what, error=repr(finished.exception()))

        task.add_done_callback(done)


async def _run(callback: ReadyCallback) -> None:
    """A ready callback, plain or async."""
    result = callback()
    if inspect.isawaitable(result):
        await result


def _name(callback: Callable[..., Any]) -> str:
    return getattr(callback, "__qualname__", None) or repr(callback)
