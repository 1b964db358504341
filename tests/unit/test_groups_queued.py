"""The waiting callers read from AMI QueueStatus: only our queues' QueueEntry events count."""

from __future__ import annotations

import pytest

from pbx_control.groups.queued import Entry, entries

pytestmark = [pytest.mark.unit, pytest.mark.groups]


def test_queue_entries_of_our_queues() -> None:
    answer = [
        {"Event": "QueueParams", "Queue": "g7v2", "Calls": "2"},
        {"Event": "QueueMember", "Queue": "g7v2", "Name": "Local/12@pbx-member"},
        {"Event": "QueueEntry", "Queue": "g7v2", "Position": "1", "Uniqueid": "1700000000.11",
         "CallerIDNum": "1001", "CallerIDName": "Anna Svensson", "Wait": "12"},
        {"Event": "QueueEntry", "Queue": "g7v2", "Position": "2", "Uniqueid": "1700000000.15",
         "CallerIDNum": "+46701234567", "CallerIDName": "<unknown>", "Wait": "x"},
        {"Event": "QueueEntry", "Queue": "support", "Position": "1", "Uniqueid": "9.9"},  # not ours
        {"Event": "QueueStatusComplete"},
    ]  # fmt: skip
    assert entries(answer) == [
        Entry(7, 1, "1700000000.11", "1001", "Anna Svensson", 12),
        Entry(7, 2, "1700000000.15", "+46701234567", "", 0),
    ]
