"""The routing decision as tables: facts in, route (and the variables the dialplan sees) out."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from pbx_control.dialplan.contract import safe_name
from pbx_control.reachability.decision import Activity, CallFacts, Diversions, Verdict, decide
from pbx_control.routing.decision import (
    Callee,
    Leg,
    Outbound,
    Route,
    decide_inbound,
    decide_internal,
    external_route,
    user_route,
)
from pbx_control.routing.dialled import Dialled, classify, to_e164

pytestmark = [pytest.mark.unit, pytest.mark.routing]

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


# ---------------------------------------------------------------------------------------------
# Reachability: the precedence blocked > VIP > closed phone > forward-all > activity > ring


NOW = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
EARLIER = NOW - timedelta(minutes=1)
MEETING = Activity("meeting", LATER, prompt="a" * 32)
CLOSED = Diversions(closed=True)
FORWARD = Diversions(forward_all="+46701234567")
CLOSED_AND_FORWARD = Diversions(closed=True, forward_all="+46701234567")

# Each rule's condition as facts; a pair is both conditions at once.
CONDITIONS: dict[str, dict] = {
    "blocked": {"mark": "blocked"},
    "vip": {"mark": "vip"},
    "closed": {"settings": CLOSED},
    "forward_all": {"settings": FORWARD},
    "activity": {"activity": MEETING},
}
RULE_VERB = {
    "blocked": "busy",
    "vip": "ring",
    "closed": "voicemail",
    "forward_all": "forward",
    "activity": "voicemail",
    "ring": "ring",
}


def facts(*rules: str, **extra: object) -> CallFacts:
    kw: dict = {}
    for rule in rules:
        for key, value in CONDITIONS[rule].items():
            if key == "settings" and "settings" in kw:
                value = CLOSED_AND_FORWARD  # closed + forward-all together
            if key == "mark" and "mark" in kw:
                # A number both VIP and blocked (two contacts): blocked is read first.
                value = "blocked"
            kw[key] = value
    kw.update(extra)
    return CallFacts(NOW, **kw)


@pytest.mark.routing
@pytest.mark.parametrize(
    ("rules", "winner"),
    [
        ((), "ring"),
        (("blocked",), "blocked"),
        (("vip",), "vip"),
        (("closed",), "closed"),
        (("forward_all",), "forward_all"),
        (("activity",), "activity"),
        # every pair of rules: the one earlier in the precedence wins
        (("blocked", "vip"), "blocked"),
        (("blocked", "closed"), "blocked"),
        (("blocked", "forward_all"), "blocked"),
        (("blocked", "activity"), "blocked"),
        (("vip", "closed"), "vip"),
        (("vip", "forward_all"), "vip"),
        (("vip", "activity"), "vip"),
        (("closed", "forward_all"), "closed"),
        (("closed", "activity"), "closed"),
        (("forward_all", "activity"), "forward_all"),
    ],
)
def test_precedence_for_every_pair_of_rules(rules: tuple[str, ...], winner: str) -> None:
    for order in (rules, tuple(reversed(rules))):
        verdict = decide(facts(*order))
        assert (verdict.rule, verdict.verb) == (winner, RULE_VERB[winner]), order


@pytest.mark.routing
def test_precedence_holds_for_any_combination() -> None:
    order = ["blocked", "vip", "closed", "forward_all", "activity"]
    for n in range(len(order) + 1):
        for combo in itertools.combinations(order, n):
            expected = min(combo, key=order.index) if combo else "ring"
            assert decide(facts(*combo)).rule == expected, combo


@pytest.mark.routing
@pytest.mark.parametrize(
    ("f", "rule", "verb", "target", "prompt"),
    [
        # anonymous callers are blocked only when the user asks for it; a VIP list cannot match them
        (CallFacts(NOW, anonymous=True, block_anonymous=True), "blocked", "busy", "", ""),
        (CallFacts(NOW, anonymous=True), "ring", "ring", "", ""),
        (CallFacts(NOW, anonymous=True, block_anonymous=True, activity=MEETING), "blocked", "busy", "", ""),
        # an end time in the past: the setting or activity is off (it ended by itself)
        (CallFacts(NOW, activity=Activity("meeting", EARLIER)), "ring", "ring", "", ""),
        (CallFacts(NOW, activity=Activity("meeting", NOW)), "ring", "ring", "", ""),
        (CallFacts(NOW, settings=Diversions(closed=True, closed_until=EARLIER)), "ring", "ring", "", ""),
        (
            CallFacts(NOW, settings=Diversions(forward_all="1002", forward_all_until=EARLIER)),
            "ring",
            "ring",
            "",
            "",
        ),
        (
            CallFacts(NOW, settings=Diversions(closed=True, closed_until=EARLIER), activity=MEETING),
            "activity",
            "voicemail",
            "",
            "a" * 32,
        ),
        # ... and one still ahead, or until further notice, is on
        (CallFacts(NOW, settings=Diversions(closed=True, closed_until=LATER)), "closed", "voicemail", "", ""),
        (CallFacts(NOW, activity=Activity("busy", None)), "activity", "voicemail", "", ""),
        (CallFacts(NOW, activity=Activity("available", None)), "ring", "ring", "", ""),
        # the activity's destination
        (
            CallFacts(NOW, activity=Activity("custom", LATER, "forward", "1003", "b" * 32)),
            "activity",
            "forward",
            "1003",
            "b" * 32,
        ),
        (CallFacts(NOW, activity=Activity("custom", LATER, "operator")), "activity", "operator", "", ""),
        (
            CallFacts(NOW, activity=Activity("custom", LATER, "ring", prompt="c" * 32)),
            "activity",
            "ring",
            "",
            "c" * 32,
        ),
        # forward-all to an extension or outside
        (CallFacts(NOW, settings=Diversions(forward_all="1002")), "forward_all", "forward", "1002", ""),
        # forwards on busy / no answer do not change the verdict: they come after ringing
        (
            CallFacts(NOW, settings=Diversions(forward_busy="1002", forward_no_answer="1003")),
            "ring",
            "ring",
            "",
            "",
        ),
    ],
)
def test_verdicts(f: CallFacts, rule: str, verb: str, target: str, prompt: str) -> None:
    assert decide(f) == Verdict(rule, verb, target, prompt)  # type: ignore[arg-type]


# --- verdicts as routes ----------------------------------------------------------------------

OUT_ANNA = Outbound("trunk_carrier", "+46812345601", "+46812345600")
ANNA_ACME = replace(ANNA, organization="acme", outbound=OUT_ANNA)
BO_ROUTE = Route("dial", "PJSIP/acme_1002_1", 30, voicemail="1002@acme")


@pytest.mark.routing
@pytest.mark.parametrize(
    ("verdict", "kwargs", "expected"),
    [
        (Verdict("blocked", "busy"), {}, {"PBX_ROUTE": "busy"}),
        (
            Verdict("ring", "ring"),
            {},
            {
                "PBX_ROUTE": "dial",
                "PBX_DIAL": "PJSIP/acme_1001_1&PJSIP/acme_1001_2",
                "PBX_DIAL_TIMEOUT": "25",
                "PBX_VOICEMAIL": "1001@acme",
            },
        ),
        (Verdict("closed", "voicemail"), {}, {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"}),
        (
            Verdict("activity", "voicemail", prompt="d" * 32),
            {"organization": "acme"},
            {
                "PBX_ROUTE": "voicemail",
                "PBX_VOICEMAIL": "1001@acme",
                "PBX_PROMPT": "d" * 32,
                "PBX_ORG": "acme",
            },
        ),
        (
            Verdict("forward_all", "forward", "+46701234567"),
            {"forward": external_route("+46701234567", OUT_ANNA)},
            {
                "PBX_ROUTE": "external",
                "PBX_DIAL": "PJSIP/+46701234567@trunk_carrier",
                "PBX_DIAL_TIMEOUT": "120",
                "PBX_CALLERID_NUM": "+46812345601",
                "PBX_VOICEMAIL": "1001@acme",
            },
        ),
        (
            Verdict("activity", "forward", "1002", "e" * 32),
            {"forward": BO_ROUTE},
            {
                "PBX_ROUTE": "dial",
                "PBX_DIAL": "PJSIP/acme_1002_1",
                "PBX_DIAL_TIMEOUT": "30",
                "PBX_PROMPT": "e" * 32,
                "PBX_VOICEMAIL": "1002@acme",
            },
        ),
        # a forward that leads nowhere (no such user, no trunk): voicemail
        (
            Verdict("forward_all", "forward", "1009"),
            {"forward": None},
            {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"},
        ),
        (
            Verdict("activity", "operator", prompt="f" * 32),
            {"operator": Route("dial", "PJSIP/acme_1900_1", 30)},
            {
                "PBX_ROUTE": "dial",
                "PBX_DIAL": "PJSIP/acme_1900_1",
                "PBX_DIAL_TIMEOUT": "30",
                "PBX_PROMPT": "f" * 32,
                "PBX_VOICEMAIL": "1001@acme",
            },
        ),
        (
            Verdict("activity", "operator"),
            {"operator": None},
            {"PBX_ROUTE": "voicemail", "PBX_VOICEMAIL": "1001@acme"},
        ),
    ],
)
def test_user_routes(verdict: Verdict, kwargs: dict, expected: dict) -> None:
    assert user_route(ANNA_ACME, verdict, **kwargs).variables() == expected


@pytest.mark.routing
def test_the_caller_name_reaches_the_dialplan_safe() -> None:
    route = user_route(ANNA_ACME, Verdict("ring", "ring"))
    named = replace(route, callerid_name=safe_name('Eve "the" <boss>\nEXEC'))
    assert named.variables()["PBX_CALLERID_NAME"] == "Eve the boss EXEC"


@pytest.mark.routing
def test_forwards_on_busy_and_no_answer_ring_first_for_n_seconds() -> None:
    settings = Diversions(forward_busy="1002", forward_no_answer="+46701234567", forward_no_answer_seconds=12)
    anna = replace(ANNA_ACME, settings=settings)
    hidden = Outbound("trunk_carrier", "+46812345601", "+46812345600", "hidden")
    route = user_route(
        anna,
        Verdict("ring", "ring"),
        on_busy=BO_ROUTE,
        on_noanswer=external_route("+46701234567", hidden),
    )
    assert route.variables() == {
        "PBX_ROUTE": "dial",
        "PBX_DIAL": "PJSIP/acme_1001_1&PJSIP/acme_1001_2",
        "PBX_DIAL_TIMEOUT": "12",
        "PBX_VOICEMAIL": "1001@acme",
        "PBX_BUSY_DIAL": "PJSIP/acme_1002_1",
        "PBX_BUSY_TIMEOUT": "30",
        "PBX_NOANSWER_DIAL": "PJSIP/+46701234567@trunk_carrier",
        "PBX_NOANSWER_TIMEOUT": "120",
        "PBX_NOANSWER_CALLERID_HIDDEN": "1",
    }


@pytest.mark.routing
@pytest.mark.parametrize(
    ("mode", "number", "hidden"),
    [
        (None, "+46812345601", False),
        ("own", "+46812345601", False),
        ("main", "+46812345600", False),
        ("hidden", "", True),
    ],
)
def test_outgoing_caller_id(mode: str | None, number: str, hidden: bool) -> None:
    out = Outbound("trunk_carrier", "+46812345601", "+46812345600", mode)  # type: ignore[arg-type]
    assert out.callerid() == (number, hidden)
    route = decide_internal(classify("0701234567"), None, out)
    assert (route.callerid_num, route.callerid_hidden) == (number, hidden)


@pytest.mark.routing
@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("Anna Svensson", "Anna Svensson"),
        ('Eve" <sip:x@y>', "Eve sip:x@y"),
        ("O'Brien", "O\u2019Brien"),
        ("Line\nbreak\r\x00", "Line break"),
        ("Åsa Öberg", "Åsa Öberg"),
        ("Дмитрий Иванов", "Дмитрий Иванов"),
        ("王小明", "王小明"),
        ("evil\u202ereversed", "evil reversed"),
        ("x" * 100, "x" * 64),
        (None, ""),
        ('"""', ""),
    ],
)
def test_safe_caller_names(raw: str | None, safe: str) -> None:
    assert safe_name(raw) == safe


@pytest.mark.routing
@pytest.mark.parametrize(
    "route",
    [
        Route("dial", "PJSIP/a_1&x", 30),
        Route("dial", "PJSIP/acme_1001_1", 30, callerid_name='Eve"'),
        Route("voicemail", voicemail="1001@acme,x"),
        Route("voicemail", voicemail="1001"),
        Route("voicemail", prompt="../../etc/passwd"),
        Route("dial", "PJSIP/acme_1001_1", 30, on_busy=Leg("Local/x@y", 30)),
        Route("dial", "PJSIP/acme_1001_1", 30, on_noanswer=Leg("PJSIP/+4670@trunk_x", 30, "+46 70")),
    ],
)
def test_unsafe_route_values_are_refused(route: Route) -> None:
    with pytest.raises(ValueError):
        route.variables()
