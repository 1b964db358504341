"""How an action's response completes (panoramisk 1.4 pitfalls), header preparation, backoff."""

from __future__ import annotations

import logging

import pytest
from panoramisk.actions import Action
from panoramisk.message import Message

from pbx_control.ami._panoramisk import PANORAMISK_LOG, SafeAction
from pbx_control.ami.actions import command_output, prepare_action
from pbx_control.ami.parts import backoff_delay

pytestmark = [pytest.mark.unit, pytest.mark.ami]


def msg(**headers: str) -> Message:
    return Message(headers)


OK = {"Response": "Success", "ActionID": "a"}


@pytest.mark.parametrize(
    ("action", "messages", "expected"),
    [
        pytest.param(
            {"Action": "PlayDTMF", "Channel": "PJSIP/x-1", "Digit": "1"},
            [msg(**OK, Message="DTMF successfully queued")],
            "single",
            id="playdtmf-without-async",
        ),
        pytest.param(
            {"Action": "Atxfer", "Channel": "PJSIP/x-1", "Exten": "1002"},
            [msg(**OK, Message="Atxfer successfully queued")],
            "single",
            id="atxfer-without-async",
        ),
        pytest.param(
            {"Action": "QueueAdd", "Queue": "sales", "Interface": "PJSIP/acme_1001"},
            [msg(**OK, Message="Added interface to queue")],
            "single",
            id="queueadd",
        ),
        pytest.param(
            {"Action": "CoreShowChannels"},
            [
                msg(**OK, EventList="start", Message="Channels will follow"),
                msg(Event="CoreShowChannel", ActionID="a", Channel="PJSIP/x-1"),
                msg(Event="CoreShowChannelsComplete", ActionID="a", EventList="Complete", ListItems="1"),
            ],
            "list",
            id="list",
        ),
        pytest.param(
            {"Action": "CoreShowChannels"},
            [msg(Response="Error", ActionID="a", Message="Permission denied")],
            "single",
            id="list-refused",
        ),
        pytest.param(
            {"Action": "Originate", "Async": "true", "Channel": "PJSIP/x"},
            [
                msg(**OK, Message="Originate successfully queued"),
                msg(Event="OriginateResponse", ActionID="a", Response="Failure", Reason="0"),
            ],
            "list",
            id="async-originate-ends-at-originateresponse",
        ),
        pytest.param(
            {"Action": "Originate", "Async": "true", "Channel": "PJSIP/x"},
            [msg(Response="Error", ActionID="a", Message="Extension does not exist.")],
            "single",
            id="async-originate-refused",
        ),
    ],
)
async def test_response_completion(action: dict[str, str], messages: list[Message], expected: str) -> None:
    safe = SafeAction(action, as_list=None)
    for message in messages[:-1]:
        safe.add_message(message)
        assert not safe.future.done()
    safe.add_message(messages[-1])
    assert safe.future.done()
    result = safe.future.result()
    if expected == "list":
        assert result == messages
    else:
        assert result is messages[0]


async def test_panoramisk_pitfalls_still_exist_upstream() -> None:
    """If these start failing, panoramisk was fixed and SafeAction could go."""
    plain = Action({"Action": "PlayDTMF", "Channel": "PJSIP/x-1", "Digit": "1"})
    with pytest.raises(KeyError):
        plain.add_message(msg(**OK, Message="DTMF successfully queued"))
    queue_add = Action({"Action": "QueueAdd"})
    queue_add.add_message(msg(**OK, Message="Added interface to queue"))
    assert not queue_add.future.done()


def test_prepare_action_adds_async_and_rejects_injection() -> None:
    assert prepare_action({"Action": "PlayDTMF", "Digit": 1})["Async"] == "false"
    assert prepare_action({"Action": "Originate"})["Async"] == "true"
    assert prepare_action({"Action": "Originate", "async": "false"})["async"] == "false"
    assert "Async" not in prepare_action({"Action": "Originate", "async": "false"})
    assert prepare_action({"Action": "Setvar", "Variable": ["A=1", "B=2"]})["Variable"] == ["A=1", "B=2"]
    with pytest.raises(ValueError, match="line break"):
        prepare_action({"Action": "Ping", "X": "a\r\nAction: Logoff"})
    with pytest.raises(ValueError, match="header name"):
        prepare_action({"Action": "Ping", "Bad: Name": "x"})
    with pytest.raises(ValueError, match="header name"):
        prepare_action({"Action": "Ping", "Name\n": "x"})  # `$` alone would let the newline in
    with pytest.raises(ValueError, match="Action"):
        prepare_action({"Channel": "x"})


@pytest.mark.parametrize(
    ("rand", "expected"),
    [
        (0.5, [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]),
        (0.0, [0.4, 0.8, 1.6, 3.2, 6.4, 8.0, 8.0]),
        (1.0, [0.6, 1.2, 2.4, 4.8, 9.6, 10.0, 10.0]),
    ],
)
def test_backoff_doubles_to_the_cap_with_jitter(rand: float, expected: list[float]) -> None:
    delays = [backoff_delay(attempt, rand=lambda: rand) for attempt in range(7)]
    assert delays == pytest.approx(expected)
    assert backoff_delay(1000) <= 10.0


def test_command_output() -> None:
    assert command_output(msg(Response="Success", Output="Dialplan reloaded.")) == "Dialplan reloaded."
    assert command_output(Message({"Response": "Success", "Output": ["a", "b: c"]})) == "a\nb: c"
    assert command_output(msg(Response="Success")) == ""


async def test_panoramisk_log_never_carries_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger=PANORAMISK_LOG.name)
    login = SafeAction({"Action": "Login", "Username": "u", "Secret": "hunter2"})
    PANORAMISK_LOG.error("Fail to send %r", login)
    PANORAMISK_LOG.error("Adding action to awaiting list: %s", str(login))
    assert "hunter2" not in caplog.text
    assert caplog.text.count("[redacted]") == 2
