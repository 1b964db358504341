"""AMI actions: headers checked so no value can inject another, the `Async` default, and the
response of one sent action (PendingAction)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from panoramisk.message import Message

from pbx_control.ami._panoramisk import ClientProtocol, SafeAction
from pbx_control.ami.errors import AmiError, AmiTimeout, AmiUnavailable
from pbx_control.kernel.timing import add_ami_wait

Response = Message | list[Message]

_HEADER_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def _header_value(key: str, value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise TypeError(f"AMI header {key} must be a string or a number, not {type(value).__name__}")
    if "\r" in text or "\n" in text:
        raise ValueError(f"AMI header {key} contains a line break")
    return text


def prepare_action(action: Mapping[str, object]) -> dict[str, str | list[str]]:
    """Validate an action's headers and add `Async` unless the caller chose.

    Without an Async key panoramisk 1.4 crashes on a "successfully queued" response (see
    _panoramisk.py), so every action gets `Async: false`, except Originate which gets `Async: true`:
    a synchronous Originate holds the whole AMI session until the call is answered or times out.
    Header names and values are checked so that no value can inject extra headers.
    """
    fields: dict[str, str | list[str]] = {}
    name = ""
    for key, value in action.items():
        if not isinstance(key, str) or not _HEADER_NAME.fullmatch(key):
            raise ValueError(f"invalid AMI header name {key!r}")
        if isinstance(value, list | tuple):
            fields[key] = [_header_value(key, item) for item in value]
        else:
            text = _header_value(key, value)
            fields[key] = text
            if key.lower() == "action":
                name = text
    if not name:
        raise ValueError("an AMI action needs an Action header")
    if not any(key.lower() == "async" for key in fields):
        fields["Async"] = "true" if name.lower() == "originate" else "false"
    return fields


def first_message(response: Response) -> Message:
    return response[0] if isinstance(response, list) else response


def command_output(response: Message) -> str:
    """The text of a Command response: Asterisk 22 sends one `Output:` header per line."""
    output = response.get("Output")
    if output is None:
        return ""
    if isinstance(output, list):
        return "\n".join(output)
    return str(output)


def _raise_for_error(name: str, response: Response) -> None:
    first = first_message(response)
    if first.success:
        return
    message = str(first.get("Message") or first.get("Response") or "error")
    output = command_output(first)
    raise AmiError(f"{message}: {output}" if output else message, action=name, response=response)


class PendingAction:
    """An action sent on one connection. `await result()` for its response.

    `done` turns true inside the socket reader, at the very message that completes the response,
    before any later message is handled (the CallModel relies on this to order a snapshot against
    the events around it).
    """

    def __init__(
        self,
        action: SafeAction,
        protocol: ClientProtocol,
        lost: asyncio.Future[str],
        timeout_s: float,
        on_unanswered: Callable[[], None] | None = None,
    ) -> None:
        self._on_unanswered = on_unanswered
        self._action = action
        self._protocol = protocol
        self._lost = lost
        self.timeout_s = timeout_s
        self.name = str(action.get("Action", ""))

    @property
    def done(self) -> bool:
        return self._action.future.done()

    async def result(self, timeout_s: float | None = None, *, check: bool = True) -> Response:
        """The response: a Message, or a list of Messages for a list action (the Response first,
        the Complete event last) or an async Originate (Response, OriginateResponse).

        Raises AmiUnavailable if the connection goes first, AmiTimeout after `timeout_s` seconds and,
        when `check`, AmiError for an error response.
        """
        future = self._action.future
        limit = self.timeout_s if timeout_s is None else timeout_s
        waited = time.perf_counter()
        lost_first = False
        try:
            if not future.done():
                waiters: set[asyncio.Future[Any]] = {future, self._lost}  # futures of different results
                await asyncio.wait(waiters, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            add_ami_wait(time.perf_counter() - waited)  # the request's Server-Timing `ami`
            lost_first = self._lost.done()  # before on_unanswered, which may drop the connection
            if not future.done():
                future.cancel()
                self._forget()
                if self._on_unanswered is not None and not lost_first:
                    self._on_unanswered()
        if future.cancelled():
            if lost_first:
                raise AmiUnavailable("the AMI connection was lost before the response came", action=self.name)
            raise AmiTimeout(f"no response within {limit:g} s", action=self.name)
        response: Response = future.result()
        if check:
            _raise_for_error(self.name, response)
        return response

    def _forget(self) -> None:
        # A late answer must not find it (panoramisk would keep the entry forever).
        self._protocol.responses.pop(self._action.id, None)
        self._protocol.responses.pop(self._action.action_id, None)
