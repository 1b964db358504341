"""The dialplan forgets what an earlier route decided: every PBX_* variable it reads is cleared by
[pbx-clear] when a call enters a routing context, before the AGI decides again, unless it is a
global, set by the dialplan itself before it is read, or kept on purpose (KEPT, with the reason).

A FastAGI handler sets only the variables that apply; a variable left from an earlier route (a call
transferred, parked, or sent on to another group) would otherwise act on the new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from pbx_control.dialplan import contract
from pbx_control.groups.decision import GroupRoute
from pbx_control.routing.decision import Leg, Route
from pbx_control.runtime.asterisk_config import TEMPLATE_DIR

pytestmark = [pytest.mark.unit, pytest.mark.routing]

KEPT = {
    "PBX_ORG": "the organization: set by the org-<slug> context a device's call (or a transfer) comes "
    "through, or by the inbound handler on a call from the carrier; the fallback needs it",
    "PBX_DIALLED": "what the caller dialled: set from EXTEN right after the clear; the fallback rings it",
    "PBX_PARKED_BY": "set by the API (AMI Setvar) just before it redirects a call into pbx-park",
    "PBX_PARK_TIMEOUT": "set by the API (AMI Setvar) just before it redirects a call into pbx-park",
    "PBX_XFER": "an announced transfer's id: set by the API (AMI Setvar) before the redirect into "
    "pbx-xfer-consult, inherited by the recipient's leg",
    "PBX_XFER_PEER": "the held party of an announced transfer: set by the API like PBX_XFER",
    "PBX_XFER_DONE": "set by the API when it completes an announced transfer (cleared at its start)",
    "PBX_HOLD_OTHER": "set by the API (AMI Setvar) just before it redirects a call into pbx-hold",
    "PBX_CLICK_DIAL": "set by the API's Originate of a click-to-call, read before any route",
    "PBX_CLICK_RING": "set by the API's Originate of a click-to-call, read before any route",
    "PBX_CLICK_TO": "set by the API's Originate of a click-to-call, read before any route",
    "PBX_CLICK_ORG": "set by the API's Originate of a click-to-call, read before any route",
    "PBX_CONF_FROM": "the host's device of an ad-hoc conference: set by the API's Originate of the "
    "person added, handed to the conference_dial handler",
    "PBX_CONF_NAME": "set by the API (AMI Setvar before the redirect into a conference, or the "
    "Originate of the one rung into it), read before ConfBridge",
    "PBX_CONF_NUM": "set by the API like PBX_CONF_NAME",
}
ENTRIES = ("pbx-from-device", "pbx-from-trunk")  # where a call enters the dialplan to be routed

_READ = re.compile(r"\$\{(PBX_[A-Z0-9_]+)|\b(?:CUT|FIELDQTY)\((PBX_[A-Z0-9_]+)")
_SET = re.compile(r"^Set\(_{0,2}(PBX_[A-Z0-9_]+)=")


@dataclass(frozen=True)
class Step:
    file: str
    context: str
    exten: str
    index: int  # position within its extension (0: the first priority)
    app: str
    data: str

    @property
    def reads(self) -> set[str]:
        return {a or b for a, b in _READ.findall(self.data)}

    @property
    def sets(self) -> set[str]:
        if self.app == "MSet":
            return {pair.split("=", 1)[0].lstrip("_") for pair in self.data.split(",") if "=" in pair}
        m = _SET.match(f"{self.app}({self.data}")
        return {m.group(1)} if m else set()

    def where(self) -> str:
        return f"{self.file} [{self.context}] {self.exten}#{self.index + 1}"


def _parse() -> tuple[list[Step], dict[str, str]]:
    steps: list[Step] = []
    globals_: dict[str, str] = {}
    assert isinstance(TEMPLATE_DIR, Path)  # the templates are a directory on disk
    for path in sorted(Path(TEMPLATE_DIR).glob("extensions*.conf")):
        context, exten, index = "", "", -1
        for raw in path.read_text().splitlines():
            line = raw.split(";", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if m := re.fullmatch(r"\[([^\]]+)\]", line):
                context = m.group(1)
                continue
            if context == "globals":
                name, _, value = line.partition("=")
                globals_[name.strip()] = value.strip()
                continue
            if m := re.fullmatch(r"exten\s*=>\s*([^,]+),([^,]+),(.*)", line):
                if m.group(2) == "hint":
                    continue
                exten, index, body = m.group(1), 0, m.group(3)
            elif m := re.fullmatch(r"same\s*=>\s*n(?:\([a-z-]+\))?,(.*)", line):
                index, body = index + 1, m.group(1)
            else:
                continue
            app, _, data = body.partition("(")
            steps.append(Step(path.name, context, exten, index, app, data.removesuffix(")")))
    return steps, globals_


STEPS, GLOBALS = _parse()


def cleared(entry: str = "new") -> set[str]:
    """What Gosub(pbx-clear,<entry>,1) clears, following its Goto within the context."""
    ext: dict[str, list[Step]] = {}
    for s in STEPS:
        if s.context == "pbx-clear":
            ext.setdefault(s.exten, []).append(s)

    def of(name: str) -> set[str]:
        out: set[str] = set()
        for s in ext.get(name, []):
            out |= s.sets
            if s.app == "Goto":
                out |= of(s.data.split(",")[0])
        return out

    return of(entry)


def set_before(var: str, step: Step) -> bool:
    """The dialplan itself sets `var` earlier in the same extension (a working variable)."""
    return any(
        var in s.sets
        for s in STEPS
        if (s.file, s.context, s.exten) == (step.file, step.context, step.exten) and s.index < step.index
    )


def test_the_conf_files_parse_into_the_routing_contexts() -> None:
    contexts = {s.context for s in STEPS}
    assert {"pbx-clear", *ENTRIES, "pbx-route", "pbx-after-dial", "pbx-group-goto"} <= contexts
    assert {"PBX_AGI", "PBX_PROMPTS", "PBX_AGI_GUARD_S"} <= GLOBALS.keys()
    assert {s.exten for s in STEPS if s.context == "pbx-clear"} == {"new", "s"}
    assert "PBX_PROMPT" in cleared("s")


def test_every_pbx_variable_the_dialplan_reads_is_cleared_on_entry() -> None:
    clear = cleared()
    forgotten: dict[str, list[str]] = {}
    for step in STEPS:
        for var in step.reads:
            if var in GLOBALS or var in clear or var in KEPT or set_before(var, step):
                continue
            forgotten.setdefault(var, []).append(step.where())
    assert forgotten == {}, "read by the dialplan, never cleared by [pbx-clear] nor kept on purpose"


def test_every_context_that_runs_an_agi_clears_first() -> None:
    """The clear is the first step of every extension that asks a handler; entries from outside
    use `new` (the group hop count starts again), group-to-group steps `s` (it stays)."""
    agi = {(s.file, s.context, s.exten) for s in STEPS if s.app == "AGI"}
    assert len(agi) >= 4
    for key in agi:
        first = next(s for s in STEPS if (s.file, s.context, s.exten) == key and s.index == 0)
        assert first.app == "Gosub" and first.data.startswith("pbx-clear,"), first.where()
        entry = first.data.split(",")[1]
        if first.context in ENTRIES:
            assert entry == "new", first.where()
    hops = {s.context for s in STEPS if "PBX_GROUP_HOPS" in s.reads}
    assert hops == {"pbx-group-goto"}
    assert "PBX_GROUP_HOPS" in cleared() and "PBX_GROUP_HOPS" not in cleared("s")


def test_kept_variables_are_read_and_never_cleared_and_globals_are_not_shadowed() -> None:
    read = {var for s in STEPS for var in s.reads}
    clear = cleared()
    assert KEPT.keys() <= read, "a kept variable nothing reads any more: drop it from KEPT"
    assert not KEPT.keys() & clear
    # An empty channel variable would hide the global of the same name.
    assert not GLOBALS.keys() & clear


def test_every_variable_of_the_contract_is_cleared_or_kept() -> None:
    names = {var.name for var in contract.ALL}
    assert names - cleared() - KEPT.keys() == set()


def test_every_variable_a_routing_or_group_decision_sets_is_cleared_or_kept() -> None:
    """Also the nested ones (an answer group's overflow under PBX_OVERFLOW_)."""
    leg = Leg("PJSIP/+46701234567@trunk_carrier", 30, "+46812345600", True)
    route = Route(
        "dial",
        "PJSIP/acme_1001_1",
        20,
        "+46812345600",
        organization="acme",
        callerid_hidden=True,
        callerid_name="Anna Svensson",
        prompt="0" * 32,
        voicemail="1001@acme",
        on_busy=leg,
        on_noanswer=leg,
    )
    overflow = GroupRoute(
        "group-goto", "PJSIP/acme_1002_1", 20, "+46812345600", "g1v1", "1002@acme", goto="21"
    )
    group = GroupRoute(
        "queue",
        "PJSIP/acme_1001_1",
        20,
        "+46812345600",
        "g1v1",
        "1001@acme",
        goto="20",
        overflow=overflow,
        organization="acme",
    )
    names = route.variables().keys() | group.variables().keys()
    assert {"PBX_PROMPT", "PBX_NOANSWER_DIAL", "PBX_OVERFLOW_GROUP_GOTO"} <= names
    assert names - cleared() - KEPT.keys() == set()
