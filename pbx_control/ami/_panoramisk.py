"""Thin subclasses of panoramisk 1.4's public classes that fix what it gets wrong for us.

What panoramisk 1.4 does, read in its source, and what we change here (AmiClient relies on it):

* `Action.multi` guesses from the response text whether more messages follow. A response ending in
  "successfully queued" (PlayDTMF, Atxfer, CancelAtxfer, async Originate) looks up `self['async']`,
  which raises KeyError when the action has no Async key; that exception escapes `data_received`,
  asyncio closes the transport and the caller's future never resolves. "Added interface to queue"
  (QueueAdd) is taken for the start of a list, so that future never resolves either. `SafeAction`
  decides from the protocol instead: a list is announced by `EventList: start` and ends with an
  event whose EventList is Complete (or whose name ends in Complete); an async Originate ends with
  its OriginateResponse.
* `Manager.connection_lost` schedules `connect()` again after `reconnect_timeout` seconds, a fixed
  interval passed through `int()` (0.5 becomes 0: a tight reconnect loop), with no way to cancel it
  from `close()`. Its `connection_made` logs in but only records a refused login in
  `manager.authenticated` (nobody is told; Asterisk then closes the socket and panoramisk reconnects
  at the fixed interval forever). If Asterisk is not up, it retries only on OSError; a connect that
  hangs is never timed out. `PassiveManager` never reconnects by itself: AmiClient owns the connection.
* On a lost connection `AMIProtocol.close()` moves the pending actions that had no response yet to
  `manager.awaiting_actions`, and the FullyBooted handler re-sends them on the next connection (an
  Originate could ring twice, long after its caller gave up); actions that had part of their
  response (an interrupted list) are dropped with their future never resolved. `PassiveManager` re-sends
  nothing; AmiClient fails every pending action with AmiUnavailable when the connection goes.
* Its pinger sends `Ping` every `ping_interval` seconds but never looks at the answer, so a dead
  peer behind a silent network is never noticed. AmiClient runs its own ping with a timeout.
* `data_received` decodes every TCP chunk on its own with errors='ignore', so a UTF-8 character
  split across two reads (a caller name) is silently lost. `ClientProtocol` decodes incrementally.
* `Manager.dispatch` calls event callbacks inside `data_received`: an exception in any callback
  drops the connection. AmiClient's single dispatcher catches and logs callback errors.
* A `Shutdown` event makes the protocol call `connection_lost(<the Shutdown message>)`; we treat it
  as a lost connection like any other.
"""

from __future__ import annotations

import asyncio
import codecs
import logging
import re
from collections import deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, NoReturn

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.manager import Manager
from panoramisk.message import Message

from pbx_control.logs import get_logger

log = get_logger("pbx_control.ami.protocol")

_TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})  # Asterisk's ast_true()

# Why a connection went: None (closed by the peer), the exception asyncio reports, the Shutdown event
# panoramisk passes on, or our own words (an unanswered Ping).
LossReason = BaseException | Message | str | None

# panoramisk 1.4 has no annotations. The `if TYPE_CHECKING:` blocks below declare, for the type
# checker only, the signatures and attributes of its classes that this package relies on (read in
# its source); at run time the inherited ones are used unchanged.


class _RedactSecrets(logging.Filter):
    """panoramisk logs whole actions in a few places (e.g. 'Fail to send %r'): never the secret."""

    _pattern = re.compile(r"(?i)(['\"]?secret['\"]?\s*[:=]\s*)(['\"][^'\"]*['\"]|\S+)")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self._pattern.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


# panoramisk's own (plain-text) lines: every message at DEBUG, nothing we need at INFO. Our own
# structured lines say what matters, so only its warnings and errors get through.
PANORAMISK_LOG = logging.getLogger("pbx_control.ami.panoramisk")
PANORAMISK_LOG.setLevel(logging.WARNING)
PANORAMISK_LOG.addFilter(_RedactSecrets())


class SafeAction(Action):
    """An Action whose completion is decided from the AMI protocol, never from message text."""

    if TYPE_CHECKING:
        as_list: bool | None
        responses: list[Message]
        # Resolved with the Message, or the list of them for a list action / async Originate.
        future: asyncio.Future[Message | list[Message]]

        def __init__(self, fields: Mapping[str, str | list[str]], *, as_list: bool | None = None) -> None: ...

    def _async_originate(self) -> bool:
        return (
            str(self.get("Action", "")).lower() == "originate" and str(self.get("Async", "")).lower() in _TRUE
        )

    @property
    def multi(self) -> bool:
        if self.as_list is not None:
            return bool(self.as_list)
        first = self.responses[0]
        if str(first.get("EventList", "")).lower() == "start":
            return True
        # An async Originate answers "successfully queued" now and OriginateResponse later.
        return self._async_originate() and bool(first.success)

    @property
    def completed(self) -> bool:
        if not self.multi:
            return True
        if len(self.responses) < 2:
            return False
        last = self.responses[-1]
        event = str(last.get("Event", ""))
        if self._async_originate():
            return event == "OriginateResponse"
        return str(last.get("EventList", "")).lower() == "complete" or event.endswith("Complete")


class PassiveManager(Manager):
    """A Manager used only for protocol work (action matching, event dispatch), never to connect."""

    if TYPE_CHECKING:
        protocol: ClientProtocol | None
        authenticated: bool
        awaiting_actions: deque[SafeAction]
        log: logging.Logger
        config: dict[str, object]  # panoramisk's defaults merged with our keyword arguments

        def register_event(
            self, pattern: str, callback: Callable[[PassiveManager, Message], object] | None = None
        ) -> object: ...

    def __init__(
        self, on_protocol_lost: Callable[[ClientProtocol, LossReason], None], **config: object
    ) -> None:
        super().__init__(**config)  # type: ignore[no-untyped-call]  # panoramisk 1.4 is unannotated
        self._on_protocol_lost = on_protocol_lost

    def connect(self, *args: object, **kwargs: object) -> NoReturn:
        raise NotImplementedError("AmiClient owns the connection")

    def connection_lost(self, exc: LossReason) -> None:
        # Called by the protocol. panoramisk would schedule a fixed-interval reconnect here.
        self._connected = False
        self.authenticated = False
        self.awaiting_actions.clear()

    def send_awaiting_actions(self, *_: object) -> None:  # type: ignore[override]  # async upstream; a plain callback does too
        # Registered by panoramisk for FullyBooted. We never re-send an action on a new connection.
        self.awaiting_actions.clear()

    def protocol_lost(self, protocol: ClientProtocol, exc: LossReason) -> None:
        self.awaiting_actions.clear()
        self._on_protocol_lost(protocol, exc)


class ClientProtocol(AMIProtocol):
    """AMIProtocol bound to its manager from the first byte, decoding UTF-8 across reads."""

    if TYPE_CHECKING:
        transport: asyncio.Transport
        closed: bool
        responses: dict[str, SafeAction]  # by ActionID, while the response is incomplete
        factory: PassiveManager | None
        version: str | None
        log: logging.Logger
        config: dict[str, object]
        encoding: str

        def send(
            self, data: SafeAction, as_list: bool | None = False
        ) -> asyncio.Future[Message | list[Message]]: ...
        def close(self) -> None: ...

    def __init__(self, manager: PassiveManager) -> None:
        super().__init__()
        self._manager = manager
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[no-untyped-call]  # panoramisk 1.4 is unannotated
        self.factory = self._manager
        self.log = self._manager.log
        self.config = self._manager.config
        self.encoding = "utf-8"

    def data_received(self, data: bytes) -> None:
        text = self._decoder.decode(data)
        if not text:
            return
        try:
            super().data_received(text.encode("utf-8"))  # type: ignore[no-untyped-call]  # panoramisk 1.4 is unannotated
        except Exception:
            # Whatever was in the rest of this chunk is lost: start again on a fresh connection
            # (AmiClient reconnects and on_ready re-derives the state).
            log.exception("ami.protocol_error", action="closing the connection")
            self.transport.abort()

    def connection_lost(self, exc: LossReason) -> None:
        # panoramisk tells the factory only when the close was not ours; we always want to know.
        super().connection_lost(exc)  # type: ignore[no-untyped-call]  # panoramisk 1.4 is unannotated
        self._manager.protocol_lost(self, exc)
