"""A handler's decision reaches the dialplan as its session's last word (dialplan/apply.py): one
SET VARIABLE per variable, PBX_ROUTE last, all in one write, then the end of the server's half of
the connection, with no round trip for the replies. Whatever a value holds (a caller's name with
commas, pipes, quotes, `${...}`), Asterisk's own argument parsing (FakeAsterisk follows res_agi's
parse_args) gives back exactly that value, in that variable and no other."""

from __future__ import annotations

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
    "PBX_DIAL=x",
    "Дмитрий Åkesson 张伟 🙂",
    "back\\slash\\",
    " leading and trailing ",
]


async def _sent(route: Route) -> tuple[list[str], dict[str, str], bool]:
    async def handler(session: AgiSession) -> None:
        await apply_decision(session, route)

    async with AgiServer({"route": handler}, port=0) as server:
        result = await FakeAsterisk(server.bound_port).run("route")
    return result.commands, result.variables, result.server_closed


@pytest.mark.parametrize("value", HOSTILE)
async def test_any_value_arrives_as_itself_in_its_own_variable(value: str) -> None:
    name = contract.safe_name(value)
    commands, variables, _ = await _sent(Route("dial", "PJSIP/acme_1001_1", 20, callerid_name=name))
    assert variables["PBX_CALLERID_NAME"] == name
    assert set(variables) == set(Route("dial", "PJSIP/acme_1001_1", 20, callerid_name=name).variables())
    assert all(c.startswith("SET VARIABLE PBX_") for c in commands)


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
    assert list(contract.route_last(values)) == order
    assert contract.route_last(values) == values


async def test_a_route_is_one_write_without_a_round_trip() -> None:
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
    commands, variables, closed = await _sent(route)
    expected = route.variables()
    assert len(expected) == 10
    assert variables == expected
    assert [c.split()[2] for c in commands] == list(contract.route_last(expected))
    assert commands[-1] == 'SET VARIABLE PBX_ROUTE "dial"'
    assert closed
    assert expected["PBX_CALLERID_NAME"] == "Svensson, Anna | ${SHELL(id)} \u2019x\u2019"


def test_no_agi_of_the_dialplan_waits_for_an_unpack() -> None:
    """The variables are set by the AGI itself: nothing after it decodes a packed variable."""
    agi = [s for s in STEPS if s.app == "AGI"]
    assert len(agi) >= 8
    assert not [s for s in STEPS if s.context == "pbx-unpack" or "BASE64_DECODE" in s.data]
