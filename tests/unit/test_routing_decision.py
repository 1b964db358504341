"""The routing decision as tables: facts in, route (and the variables the dialplan sees) out."""

from __future__ import annotations

import pytest

from pbx_control.routing.decision import Callee, Outbound, Route, decide_inbound, decide_internal
from pbx_control.routing.dialled import Dialled, classify, to_e164

pytestmark = [pytest.mark.unit, pytest.mark.foundation]

ANNA = Callee(1, "1001", "Anna", ("acme_1001_1", "acme_1001_2"), 25)
NODEV = Callee(2, "1002", "Bo", (), 30)
OUT = Outbound("trunk_carrier", None, "+46812345678")
OUT_DID = Outbound("trunk_carrier", "+46812345001", "+46812345678")
OUT_NOMAIN = Outbound("trunk_carrier", None, None)
NO_TRUNK = Outbound(None, None, "+46812345678")


@pytest.mark.parametrize(
    ("dialled", "kind", "value"),
    [
        ("1001", "extension", "1001"),
        ("12", "extension", "12"),
        ("112", "external", "112"),
        ("+46701234567", "external", "+46701234567"),
        ("0046701234567", "external", "+46701234567"),
        ("0701234567", "external", "+46701234567"),
        ("0812345678", "external", "+46812345678"),
        ("0", "invalid", "0"),
        ("1", "invalid", "1"),
        ("123456789", "invalid", "123456789"),
        ("*45", "invalid", "*45"),
        ("+0123", "invalid", "+0123"),
        ("", "invalid", ""),
    ],
)
def test_classify(dialled: str, kind: str, value: str) -> None:
    assert classify(dialled) == Dialled(kind, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("number", "e164"),
    [
        ("+46812345678", "+46812345678"),
        ("46812345678", "+46812345678"),
        ("0812345678", "+46812345678"),
        ("0046812345678", "+46812345678"),
        ("abc", None),
        ("12", None),
    ],
)
def test_to_e164(number: str, e164: str | None) -> None:
    assert to_e164(number) == e164


@pytest.mark.parametrize(
    ("dialled", "callee", "outbound", "expected"),
    [
        ("1001", ANNA, OUT, Route("dial", "PJSIP/acme_1001_1&PJSIP/acme_1001_2", 25)),
        ("1002", NODEV, OUT, Route("unavailable")),
        ("1003", None, OUT, Route("unknown")),
        ("0701234567", None, OUT, Route("external", "PJSIP/+46701234567@trunk_carrier", 120, "+46812345678")),
        (
            "0701234567",
            None,
            OUT_DID,
            Route("external", "PJSIP/+46701234567@trunk_carrier", 120, "+46812345001"),
        ),
        ("0701234567", None, OUT_NOMAIN, Route("external", "PJSIP/+46701234567@trunk_carrier", 120, "")),
        ("0701234567", None, NO_TRUNK, Route("unknown")),
        ("0701234567", None, None, Route("unknown")),
        ("112", None, OUT, Route("external", "PJSIP/112@trunk_carrier", 120, "+46812345678")),
        ("*99", None, OUT, Route("unknown")),
    ],
)
def test_decide_internal(
    dialled: str, callee: Callee | None, outbound: Outbound | None, expected: Route
) -> None:
    assert decide_internal(classify(dialled), callee, outbound) == expected


@pytest.mark.parametrize(
    ("organization", "callee", "expected"),
    [
        ("acme", ANNA, Route("dial", "PJSIP/acme_1001_1&PJSIP/acme_1001_2", 25, organization="acme")),
        ("acme", None, Route("unknown", organization="acme")),
        ("acme", NODEV, Route("unavailable", organization="acme")),
        (None, None, Route("unknown")),
    ],
)
def test_decide_inbound(organization: str | None, callee: Callee | None, expected: Route) -> None:
    assert decide_inbound(organization, callee) == expected


def test_variables_are_what_the_dialplan_reads() -> None:
    r = Route("external", "PJSIP/+46701234567@trunk_carrier", 120, "+46812345678", organization="acme")
    assert r.variables() == {
        "PBX_ROUTE": "external",
        "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier",
        "PBX_DIAL_TIMEOUT": "120",
        "PBX_CALLERID_NUM": "+46812345678",
        "PBX_ORG": "acme",
    }


@pytest.mark.parametrize(
    "endpoints",
    [("acme_1001,1",), ("acme&x",), ("ACME",), ("a)b",), ("x\nEXEC",)],
)
def test_unsafe_endpoint_names_are_refused(endpoints: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        decide_internal(classify("1001"), Callee(1, "1001", "A", endpoints, 20), OUT)


@pytest.mark.parametrize("bad", ["+4670,1", "12&3", "+46 70", "x"])
def test_unsafe_callerid_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        Route("external", "PJSIP/112@trunk_carrier", 120, bad).variables()
