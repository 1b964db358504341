"""The call policy decision (pbx_control/policy/model.py) as tables: which destination may be used
for what, under the default, an organization's policy and a user's narrowing."""

from __future__ import annotations

from typing import Any

import pytest

from pbx_control.policy.model import (
    DEFAULT,
    CallPolicy,
    Use,
    UserNarrowing,
    from_row,
    refusal,
)

pytestmark = [pytest.mark.unit, pytest.mark.security]

ALL = frozenset({"national", "mobile", "international", "premium"})
ABROAD = CallPolicy(dial=ALL, forward=frozenset({"national", "mobile", "international"}))

# (policy, use, number, refused?)
CASES: list[tuple[str, CallPolicy, Use, str, bool]] = [
    # the default: national and mobile, never premium nor abroad
    ("default national", DEFAULT, "dial", "081234567", False),
    ("default mobile", DEFAULT, "forward", "+46701234567", False),
    ("default premium", DEFAULT, "dial", "0900123456", True),
    ("default premium 0939", DEFAULT, "transfer", "+46939123456", True),
    ("default international", DEFAULT, "dial", "+4420794601234", True),
    ("default international 00", DEFAULT, "overflow", "0044207946012", True),
    ("default internal", DEFAULT, "forward", "1002", False),
    ("default emergency", DEFAULT, "dial", "112", False),
    ("default emergency 11414", DEFAULT, "dial", "11414", False),
    ("invalid is not this decision's", DEFAULT, "dial", "abc", False),
    # an organization that allows abroad for dialling and forwarding
    ("allowed premium dial", ABROAD, "dial", "0900123456", False),
    ("allowed international dial", ABROAD, "dial", "+4420794601234", False),
    ("allowed international forward", ABROAD, "forward", "+4420794601234", False),
    ("premium still refused for forwards", ABROAD, "forward", "0900123456", True),
    ("transfers keep the default", ABROAD, "transfer", "+4420794601234", True),
    # no outside class at all: still colleagues and emergency
    ("nothing outside", CallPolicy(dial=frozenset()), "dial", "081234567", True),
    ("nothing outside, internal", CallPolicy(dial=frozenset()), "dial", "1002", False),
    ("nothing outside, emergency", CallPolicy(dial=frozenset()), "dial", "112", False),
    ("mobile only", CallPolicy(forward=frozenset({"mobile"})), "forward", "081234567", True),
    ("mobile only, mobile", CallPolicy(forward=frozenset({"mobile"})), "forward", "0701234567", False),
]


@pytest.mark.parametrize(("name", "policy", "use", "number", "refused"), CASES, ids=[c[0] for c in CASES])
def test_refusal(name: str, policy: CallPolicy, use: Use, number: str, refused: bool) -> None:
    why = refusal(policy, use, number)
    assert (why is not None) == refused, why
    if why:
        assert "call policy" in why


def test_the_refusal_names_the_class_and_the_use() -> None:
    assert refusal(DEFAULT, "forward", "0900123456") == (
        "premium numbers may not be forwarded to (the organization's call policy)"
    )
    assert refusal(DEFAULT, "dial", "+4420794601234") == (
        "international numbers may not be dialled (the organization's call policy)"
    )


NARROWING: list[tuple[str, CallPolicy, UserNarrowing | None, Use, frozenset[str]]] = [
    ("no narrowing", ABROAD, None, "dial", ALL),
    ("none set", ABROAD, UserNarrowing(), "dial", ALL),
    (
        "narrowed to national",
        ABROAD,
        UserNarrowing(dial=frozenset({"national"})),
        "dial",
        frozenset({"national"}),
    ),
    # a user never gets more than the organization allows
    (
        "never beyond the organization",
        DEFAULT,
        UserNarrowing(dial=ALL),
        "dial",
        frozenset({"national", "mobile"}),
    ),
    ("other uses untouched", ABROAD, UserNarrowing(dial=frozenset()), "forward", ABROAD.forward),
    ("nothing", ABROAD, UserNarrowing(transfer=frozenset()), "transfer", frozenset()),
    ("overflow is the organization's", ABROAD, UserNarrowing(dial=frozenset()), "overflow", ABROAD.overflow),
]


@pytest.mark.parametrize(("name", "org", "user", "use", "allowed"), NARROWING, ids=[c[0] for c in NARROWING])
def test_narrowed(
    name: str, org: CallPolicy, user: UserNarrowing | None, use: Use, allowed: frozenset[str]
) -> None:
    assert org.narrowed(user).allowed(use) == allowed


ROWS: list[tuple[str, dict[str, Any], CallPolicy]] = [
    ("no rows: the default", {}, DEFAULT),
    (
        "the organization's row",
        {
            "p_dial": ["national", "premium"],
            "p_forward": [],
            "p_transfer": ["mobile"],
            "p_overflow": ["national"],
            "p_max_outside_calls": 2,
            "p_max_call_seconds": 600,
        },
        CallPolicy(
            frozenset({"national", "premium"}),
            frozenset(),
            frozenset({"mobile"}),
            frozenset({"national"}),
            2,
            600,
        ),
    ),
    (
        "a user's narrowing on the default",
        {"up_dial": ["national"], "up_forward": None, "up_transfer": []},
        CallPolicy(dial=frozenset({"national"}), transfer=frozenset()),
    ),
]


@pytest.mark.parametrize(("name", "row", "policy"), ROWS, ids=[c[0] for c in ROWS])
def test_from_row(name: str, row: dict[str, Any], policy: CallPolicy) -> None:
    assert from_row(row) == policy
