"""Presence of one user from their activity row and live channels, as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pbx_control.ami.calls import Channel
from pbx_control.directory.presence import busy_endpoints, call_state, presence_entry

pytestmark = [pytest.mark.unit, pytest.mark.directory]
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


class Calls:
    def __init__(self, states: dict[str, list[str]]) -> None:
        self.states = states

    def channels(self) -> list[Channel]:
        live = [
            Channel(name=f"PJSIP/{ep}-{i}", uniqueid=f"{ep}.{i}", state=s, endpoint=ep)
            for ep, states in self.states.items()
            for i, s in enumerate(states)
        ]
        return [*live, Channel(name="Local/x@y-1;1", uniqueid="local.1", state="Up")]  # no endpoint


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ({}, "idle"),
        ({"a": ["Ringing"]}, "ringing"),
        ({"a": ["Ringing"], "b": ["Ringing"]}, "ringing"),
        ({"a": ["Up"]}, "on_call"),
        ({"a": ["Ring"]}, "on_call"),  # dialling out
        ({"a": ["Ringing"], "b": ["Up"]}, "on_call"),  # talking on one device, another rings
        ({"other": ["Up"]}, "idle"),  # someone else's device
    ],
)
def test_call_state(states: dict[str, list[str]], expected: str) -> None:
    assert call_state(busy_endpoints(Calls(states)), ["a", "b"]) == expected


def test_call_state_unknown_without_ami() -> None:
    assert busy_endpoints(None) is None
    assert call_state(None, ["a"]) == "unknown"


def row(
    kind: str | None, until: datetime | None = None, label: str | None = None, note: str | None = None
) -> dict:
    return {
        "id": 7,
        "extension": "1001",
        "name": "Anna",
        "kind": kind,
        "label": label,
        "until": until,
        "note": note,
        "endpoints": ["a"],
    }


@pytest.mark.parametrize(
    ("r", "activity", "until", "label"),
    [
        (row(None), "available", None, None),
        (row("available"), "available", None, None),
        (row("meeting", NOW + timedelta(hours=1)), "meeting", NOW + timedelta(hours=1), None),
        (row("meeting", NOW), "available", None, None),  # ends exactly now
        (row("lunch", NOW - timedelta(seconds=1)), "available", None, None),
        (row("gone", None), "gone", None, None),  # until further notice
        (row("custom", None, "Kundbesök"), "custom", None, "Kundbesök"),
        (row("custom", NOW - timedelta(minutes=5), "Kundbesök"), "available", None, None),
    ],
)
def test_presence_entry(r: dict, activity: str, until: datetime | None, label: str | None) -> None:
    entry = presence_entry(r, "on_call", NOW)
    assert (entry["activity"], entry["until"], entry["label"]) == (activity, until, label)
    assert (entry["call"], entry["on_call"], entry["note"]) == ("on_call", True, "")
