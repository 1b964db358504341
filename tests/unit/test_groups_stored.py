"""The call path reads a group's stored schedule, holidays and destinations back without pydantic
(groups/repository.py): what the API's models (groups/model.py) wrote reads back the same, and a
malformed value is taken as none."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from pbx_control.groups.model import Destination, Holiday, OpenHours
from pbx_control.groups.repository import _destination, _holidays, _schedule

pytestmark = [pytest.mark.unit, pytest.mark.groups]


def _stored(models: list[Any]) -> str:
    return json.dumps([m.model_dump(mode="json") for m in models])  # as the API saves them (jsonb)


def test_a_schedule_the_api_saved_reads_back_the_same() -> None:
    saved = [
        OpenHours(day="mon", open="08:00", close="12:00"),
        OpenHours(day="fri", open="13:00", close="24:00"),
    ]
    found = _schedule(_stored(saved))
    assert [(o.day, o.open, o.close) for o in found] == [(s.day, s.open, s.close) for s in saved]


def test_holidays_the_api_saved_read_back_the_same() -> None:
    saved = [Holiday(date=date(2026, 12, 24), name="Julafton"), Holiday(date=date(2027, 1, 6))]
    assert [h.date for h in _holidays(_stored(saved))] == [date(2026, 12, 24), date(2027, 1, 6)]


@pytest.mark.parametrize(
    "stored",
    [
        [{"day": "mon", "open": "8", "close": "12:00"}],
        [{"day": "mon", "open": "8:05", "close": "12:00"}],  # groups/model.OpenHours refuses it too
        [{"day": "someday", "open": "08:00", "close": "12:00"}],
        [{"day": "mon", "open": "12:00", "close": "08:00"}],
        [{"day": "mon", "open": "08:00", "close": "25:00"}],
        [{"day": "mon", "open": "08:00"}],
        ["mon"],
        {"day": "mon"},
    ],
)
def test_a_malformed_schedule_is_none(stored: Any) -> None:
    assert _schedule(json.dumps(stored)) == ()


@pytest.mark.parametrize("stored", [[{"date": "2026-13-01"}], [{"name": "x"}], [7]])
def test_malformed_holidays_are_none(stored: Any) -> None:
    assert _holidays(json.dumps(stored)) == ()


@pytest.mark.parametrize(
    "saved",
    [
        Destination(kind="user", user_id=7),
        Destination(kind="voicemail", user_id=7),
        Destination(kind="group", group_id=3),
        Destination(kind="external", number="+46701234567"),
        Destination(kind="answering_service", number="+4681234567"),
    ],
)
def test_a_destination_the_api_saved_reads_back_the_same(saved: Destination) -> None:
    found = _destination(saved.model_dump(mode="json"))
    assert found is not None
    assert (found.kind, found.user_id, found.group_id, found.number) == (
        saved.kind,
        saved.user_id,
        saved.group_id,
        saved.number,
    )


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "user",
        {"kind": "pager", "number": "+46701234567"},
        {"kind": "user"},
        {"kind": "user", "user_id": "7"},
        {"kind": "user", "user_id": True},
        {"kind": "user", "user_id": 0},
        {"kind": "group", "user_id": 3},
        {"kind": "external", "number": ""},
        {"kind": "external", "number": 46701234567},
    ],
)
def test_a_malformed_destination_is_none(stored: Any) -> None:
    assert _destination(stored) is None
