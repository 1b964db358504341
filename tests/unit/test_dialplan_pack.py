"""PBX_PACK: a handler's whole decision in one SET VARIABLE (contract.pack), set again variable by
variable by the dialplan's [pbx-unpack] (extensions.conf). Whatever a value holds (a caller's name
with commas, pipes, quotes, `${...}`), the pack is made of base64, names, `:` and `|` only, and
unpacks to exactly the values packed."""

from __future__ import annotations

import re

import pytest

from pbx_control.agi import AgiServer
from pbx_control.agi.session import AgiSession
from pbx_control.agi.testing import FakeAsterisk
from pbx_control.dialplan import contract
from pbx_control.dialplan.apply import apply_decision
from pbx_control.routing.decision import Leg, Route
from tests.unit.test_dialplan_clears import STEPS

pytestmark = [pytest.mark.unit, pytest.mark.routing]

HOSTILE = [
    "Anna Svensson",
    "Svensson, Anna",
    "a|b|PBX_ROUTE:ZGlhbA==",
    'Eve" EXEC Dial PJSIP/x',
    "Eve' ; Hangup()",
    "${PBX_ORG}",
    "${SHELL(id)}",
    "$[1+1] `id`",
    "PBX_DIAL:x",
    "a:b:c=d==",
    "Дмитрий Åkesson 张伟 🙂",
    "back\\slash\\",
    "line\nbreak\r\x00nul",
    "=",
    " leading and trailing ",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_any_value_packs_into_safe_characters_and_back(value: str) -> None:
    text = contract.pack({"PBX_CALLERID_NAME": value, "PBX_ROUTE": "dial"})
    assert re.fullmatch(r"[A-Za-z0-9+/=:|_]+", text), text
    assert contract.PACK.check(text)
    assert text.count("|") == 1 and text.count(":") == 2  # no value adds a separator
    assert contract.unpack(text) == {"PBX_CALLERID_NAME": value, "PBX_ROUTE": "dial"}


@pytest.mark.parametrize(
    ("values", "order"),
    [
        ({"PBX_ROUTE": "dial", "PBX_DIAL": "PJSIP/acme_1002_1"}, ["PBX_DIAL", "PBX_ROUTE"]),
        ({"PBX_ROUTE": "busy"}, ["PBX_ROUTE"]),
        ({"PBX_A": "1", "PBX_ROUTE": "x", "PBX_B": "2"}, ["PBX_A", "PBX_B", "PBX_ROUTE"]),
        ({"PBX_OVERFLOW_ROUTE": "queue", "PBX_ROUTE": "queue"}, ["PBX_OVERFLOW_ROUTE", "PBX_ROUTE"]),
        ({}, []),
    ],
)
def test_route_goes_last(values: dict[str, str], order: list[str]) -> None:
    text = contract.pack(values)
    assert [pair.split(":")[0] for pair in text.split("|") if pair] == order


@pytest.mark.parametrize("name", ["ROUTE", "pbx_route", "PBX_", "PBX_A:B", "PBX_A|B", "PBX_PACK", "PBX_Ü"])
def test_only_pbx_names_are_packed(name: str) -> None:
    with pytest.raises(contract.UnsafeValue):
        contract.pack({name: "x"})


@pytest.mark.parametrize(
    "text",
    [
        "PBX_ROUTE",  # no value
        "PBX_ROUTE:ZGlhbA==|",  # an empty pair
        "ROUTE:ZGlhbA==",
        "PBX_ROUTE:ZGl hbA==",
        "PBX_ROUTE:ZGlhbA==,PBX_DIAL:eA==",
        "PBX_ROUTE:Z",  # not base64
        "PBX_ROUTE:/w==",  # not UTF-8
        "PBX_ROUTE:${SHELL(id)}",
    ],
)
def test_a_malformed_pack_sets_nothing(text: str) -> None:
    assert contract.unpack(text) == {}


def test_every_agi_of_the_dialplan_is_unpacked_right_after() -> None:
    agi = [s for s in STEPS if s.app == "AGI"]
    assert len(agi) >= 8
    for step in agi:
        after = next(
            s
            for s in STEPS
            if (s.file, s.context, s.exten) == (step.file, step.context, step.exten)
            and s.index == step.index + 1
        )
        assert (after.app, after.data) == ("Gosub", "pbx-unpack,s,1"), after.where()
    unpack = [s for s in STEPS if s.context == "pbx-unpack"]
    assert any("BASE64_DECODE" in s.data for s in unpack)
    assert any('REGEX("^PBX_[A-Z0-9_]+$"' in s.data for s in unpack)  # a name is checked before Set


async def test_a_route_is_one_round_trip() -> None:
    leg = Leg("PJSIP/+46701234567@trunk_carrier", 30, "+46812345600", True)
    route = Route(
        "dial",
        "PJSIP/acme_1001_1&PJSIP/acme_1001_2",
        20,
        "+46812345600",
        callerid_name=contract.safe_name("Svensson, Anna | ${SHELL(id)} 'x'"),
        voicemail="1001@acme",
        on_noanswer=leg,
    )

    async def handler(session: AgiSession) -> None:
        await apply_decision(session, route)

    async with AgiServer({"route": handler}, port=0) as server:
        result = await FakeAsterisk(server.bound_port).run("route")
    assert len(result.commands) == 1 and result.commands[0].startswith('SET VARIABLE PBX_PACK "')
    expected = route.variables()
    assert result.variables == expected and len(result.packed) == 1
    assert expected["PBX_CALLERID_NAME"] == "Svensson, Anna | ${SHELL(id)} \u2019x\u2019"
    assert len(expected) == 10  # ten SET VARIABLE round trips before
