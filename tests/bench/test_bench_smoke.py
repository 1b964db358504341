"""`make bench` kept working: the whole bench in smoke mode (one tiny size, a few seconds per
measurement, the cheap ones twice, its own stack on its own ports), checking that every measurement
ran and measured something, that repeats were combined with their load averages, and that the
chart was drawn. No goal and no speed is checked here: the figures are only looked at by
`make bench`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.runner import NAMES
from tests.support.leftovers import interrupt
from tests.support.ports import TEST_PORT_BASE

pytestmark = [pytest.mark.bench, pytest.mark.timeout(600)]
ROOT = Path(__file__).resolve().parents[2]


def smoke_port_base() -> int:
    """Inside the suite's own range, free of its phones and their media (base+9000 .. base+11199:
    the layout is in tests/support/workers.py), so each xdist worker and each parallel suite gets
    its own."""
    return TEST_PORT_BASE + 9000


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workdir = tmp_path_factory.mktemp("bench")
    out, log = workdir / "smoke.json", workdir / "bench.log"
    cmd = [sys.executable, "-m", "bench", "--smoke", "--out", str(out), "--port-base", str(smoke_port_base())]
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=540)
        finally:
            # on a timeout (or pytest's): Ctrl-C, so the bench stops its own stack
            interrupt(proc, grace_s=45)
    assert proc.returncode == 0, log.read_text(errors="replace")[-8000:]
    doc: dict[str, Any] = json.loads(out.read_text())
    doc["log"] = log.read_text(errors="replace")
    return doc


@pytest.fixture(scope="module")
def smoke(document: dict[str, Any]) -> dict[str, Any]:
    """The measurements of the one size, by name (their figures: the medians of the repeats)."""
    (size,) = document["sizes"]
    return {m["name"]: m for m in size["measurements"]}


def test_one_size_seeded_in_proportion_and_the_run_recorded(document: dict[str, Any]) -> None:
    run, (size,) = document["run"], document["sizes"]
    assert run["mode"] == "smoke" and run["sizes"] == [size["users"]] and "error" not in size
    assert size["seed"]["users"] == size["users"] and size["seed"]["organizations"] >= 2
    assert size["seed"]["contacts"] == 10 * size["users"], size["seed"]  # contacts_per_user
    # every box as the default-greetings worker leaves it (the platform's steady state)
    assert size["seed"]["default_greetings"] == size["users"], size["seed"]
    for where in (run, size):
        for key in ("load_average_at_start", "load_average_at_end"):
            assert len(where[key]) == 3, (key, where)
    assert {g["name"] for g in document["goals"]} == set(NAMES)
    assert all(g["verdict"] in ("info", "not yet") for g in document["goals"]), document["goals"]
    assert "goals, at each size" in document["log"]


def test_repeats_are_combined_with_their_load_averages(smoke: dict[str, Any]) -> None:
    m = smoke["agi_latency"]
    assert m["runs"] == 2 and len(m["repeats"]) == 2, m["runs"]
    for repeat in m["repeats"]:
        assert len(repeat["load_average_before"]) == 3 and len(repeat["load_average_after"]) == 3
        assert repeat["figures"]["at_rate"]["server"]["count"] > 0
    low, high = m["spread"]["at_rate"]["server"]["p99_ms"]
    p99s = sorted(r["figures"]["at_rate"]["server"]["p99_ms"] for r in m["repeats"])
    assert [low, high] == p99s
    assert m["figures"]["at_rate"]["server"]["p99_ms"] == pytest.approx(sum(p99s) / 2, abs=0.001)
    assert smoke["api_latency"]["runs"] == 1  # the costly ones once in the smoke run


def test_the_chart_was_drawn(document: dict[str, Any]) -> None:
    chart = Path(document["run"]["chart"])
    data = chart.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, chart


def test_mixed_load_decided_every_call_under_every_load(smoke: dict[str, Any]) -> None:
    f = smoke["mixed_load"]["figures"]
    agi = f["agi"]
    assert set(agi["outcomes"]) == {"routed"}, agi["outcomes"]
    assert agi["server"]["count"] > 0 and agi["client"]["count"] > 0
    assert f["p99_ms_server"] > 0 and f["max_ms_client"] >= f["p99_ms_client"] > 0
    for name in ("presence", "group_login_logout"):  # the API was loaded at the same time
        assert f["api"][name]["count"] > 0 and f["api"][name]["errors"] == 0, f["api"]
    assert f["calls"]["successful"] > 0 and f["calls"]["failed"] == 0, f["calls"]
    assert f["load"]["websocket_clients"] > 0 and f["events"]["deliveries"]["count"] > 0, f["events"]
    assert not f["events"]["clients_dropped"] and f["events"]["client_errors"] == 0


def test_every_measurement_reports_without_judging(smoke: dict[str, Any]) -> None:
    assert list(smoke) == list(NAMES)
    for m in smoke.values():
        assert m["status"] in ("info", "not yet"), m
        assert m["figures"], m


def test_agi_sessions_were_all_routed(smoke: dict[str, Any]) -> None:
    for name in ("agi_latency", "agi_burst"):
        f = smoke[name]["figures"]
        outcomes = f["at_rate"]["outcomes"] if name == "agi_latency" else f["outcomes"]
        assert set(outcomes) == {"routed"}, (name, outcomes)
    assert smoke["agi_latency"]["figures"]["at_rate"]["server"]["count"] > 0


def test_process_agi_routed_every_call(smoke: dict[str, Any]) -> None:
    process = smoke["process_agi_ratio"]["figures"]["process"]
    assert process["count"] > 0 and process["unrouted"] == 0


def test_calls_went_through_both_paths(smoke: dict[str, Any]) -> None:
    f = smoke["cps_ratio"]["figures"]
    assert f["bare_cps"] > 0 and f["routed_cps"] > 0, f["steps"]


def test_every_websocket_client_got_the_calls_events(smoke: dict[str, Any]) -> None:
    f = smoke["event_fanout"]["figures"]
    assert f["clients"] > 0 and not f["clients_dropped"] and f["client_errors"] == 0
    assert f["calls"]["successful"] > 0
    # every client saw at least the caller's channel of every call
    assert f["deliveries"]["count"] >= f["clients"] * f["calls"]["successful"]


def test_a_room_of_five_was_mixed_and_timed(smoke: dict[str, Any]) -> None:
    f = smoke["conference_mix"]["figures"]
    room = f["rooms"][0]
    assert room["participants"] == 5 and room["listeners"] == 4, f
    assert room["listeners_hearing_speech"] == 4, f  # the speaker's recording reached every listener
    assert f["pin_to_room"]["count"] == 4 and f["join_without_prompt"]["count"] == 5, f


def test_api_and_memory_figures(smoke: dict[str, Any]) -> None:
    api = smoke["api_latency"]["figures"]
    assert api["baseline_users_me"]["requests"] > 0 and api["baseline_users_me"]["errors"] == 0
    for name in ("presence", "queue_login", "queue_logout", "park", "transfer"):
        if isinstance(api[name], dict):  # the feature exists: its requests were made and succeeded
            assert api[name]["errors"] == 0 and api[name].get("requests", api[name].get("count")), api
    memory = smoke["memory"]["figures"]
    assert memory["peak_mib"] > 0
    # each process's own peak: the service and its FastAGI process, apart
    assert memory["peak_by_process"]["service"] > 0 and memory["peak_by_process"]["fastagi"] > 0, memory


def test_every_operation_is_in_the_operations_table(smoke: dict[str, Any]) -> None:
    ops = smoke["api_latency"]["figures"]["ops"]
    wanted = {"presence", "queue_login", "queue_logout", "park", "transfer", "hold", "resume", "click"}
    wanted |= {"announced_start", "announced_complete", "history_all", "history_missed", "history_page_11"}
    assert set(ops) == wanted, set(ops) ^ wanted
    for name, row in ops.items():
        assert row["judged_p99_ms"] is not None and row["judged_on"] in ("app", "total"), (name, row)
        if row["judged_on"] == "app":  # the service sent Server-Timing: its own work was read from it
            assert row["app_p99_ms"] == row["judged_p99_ms"], (name, row)
        else:
            assert row["p99_ms"] == row["judged_p99_ms"], (name, row)


def test_live_call_operations_and_the_history_query_were_measured(smoke: dict[str, Any]) -> None:
    api = smoke["api_latency"]["figures"]
    for name in ("hold", "resume", "click"):
        assert api[name]["count"] > 0 and api[name]["errors"] == 0, (name, api[name])
    announced = api["announced"]
    for name in ("start", "complete"):
        assert announced[name]["count"] > 0 and announced[name]["errors"] == 0, announced
    phones = announced["phones"]
    assert phones["start_to_recipient_ringing"]["count"] == announced["start"]["count"], phones
    assert phones["complete_to_completed_event"]["count"] == announced["complete"]["count"], phones
    history = api["history"]
    assert history["rows"] > 0
    for name in ("all", "missed", "page_11"):
        assert history[name]["count"] > 0 and history[name]["errors"] == 0, (name, history)
        assert history[name]["interval_s"] > 0, history  # the clients' pace (bench/pace.py)
    assert api["pace"]["clients"] > 1 and api["pace"]["interval_s"] > 0, api["pace"]
