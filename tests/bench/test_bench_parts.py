"""The bench's small pure parts: the fake Asterisk's answers, wrk's output, percentiles, Server-Timing,
the sizes, the repeats, the verdicts and the chart."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bench import cps, cpu
from bench.agi_client import Call, header, reply, route_of
from bench.chart import draw
from bench.http_load import parse
from bench.pace import Pace
from bench.params import FULL, SMOKE
from bench.repeats import combine, median_of, verdict
from bench.report import document, table
from bench.results import Result, percentile, summary_ms
from bench.seed import users_per_org
from bench.timing import OpTimes, judged, op_met, op_row, parse_server_timing

pytestmark = [pytest.mark.unit, pytest.mark.bench]

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:38080/api/v1/presence
  2 threads and 50 connections
  Latency Distribution
     50%  850.00us
     75%    1.20ms
     90%    2.50ms
     99%    1.02s
  21345 requests in 10.01s, 1.2MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   2132.40
"""


def test_the_fake_asterisk_answers_like_asterisk() -> None:
    assert reply(b"GET FULL VARIABLE PBXSYNC0123\n") == b"200 result=1 (PBXSYNC0123)\n"
    assert reply(b"GET VARIABLE FOO\n") == b"200 result=0\n"
    assert reply(b'SET VARIABLE PBX_DIAL "PJSIP/x"\n') == b"200 result=1\n"


@pytest.mark.parametrize(
    ("line", "route"),
    [
        (b'SET VARIABLE PBX_ROUTE "dial"\n', "dial"),
        (b'SET VARIABLE "PBX_ROUTE" "external"\n', "external"),  # pyst2 quotes the name
        (b"SET VARIABLE PBX_ROUTE busy\n", "busy"),
        (b'SET VARIABLE PBX_ROUTE_X "dial"\n', None),
        (b'SET VARIABLE PBX_DIAL "PJSIP/a"\n', None),
    ],
)
def test_route_of(line: bytes, route: str | None) -> None:
    assert route_of(line) == route


def test_header_is_what_asterisk_sends_for_a_device_call() -> None:
    text = header(Call("acme", "acme_1001", "1001", "1002", "1700000000.1"), 4573).decode()
    assert text.endswith("\n\n") and text.count("\n\n") == 1
    env = dict(line.split(": ", 1) for line in text.strip().splitlines())
    assert env["agi_network_script"] == "route"
    assert env["agi_channel"] == "PJSIP/acme_1001-00000001"
    assert env["agi_accountcode"] == "acme" and env["agi_extension"] == "1002"
    assert env["agi_arg_1"] == "1700000000.1"


def test_wrk_output_is_read_in_milliseconds_with_every_error() -> None:
    assert parse(WRK_OUTPUT) == {
        "p50_ms": 0.85,
        "p75_ms": 1.2,
        "p90_ms": 2.5,
        "p99_ms": 1020.0,
        "requests_per_s": 2132.4,
        "requests": 21345,
        "errors": 7,
    }


def test_nearest_rank_percentiles() -> None:
    samples = [float(n) for n in range(1, 101)]
    assert percentile(samples, 50) == 50 and percentile(samples, 99) == 99
    assert percentile([3.0], 99) == 3.0
    assert summary_ms([0.001, 0.002]) == {
        "count": 2,
        "p50_ms": 1.0,
        "p90_ms": 2.0,
        "p99_ms": 2.0,
        "max_ms": 2.0,
    }
    assert summary_ms([]) == {"count": 0}


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("app;dur=1.25, ami;dur=0.5", {"app": 1.25, "ami": 0.5}),
        ('app;desc="decide, then answer";dur=3', {"app": 3.0}),  # a comma inside a quoted desc
        ('APP;DUR="4.5"', {"app": 4.5}),  # names are case-insensitive, a quoted dur is a dur
        ("app, ami;dur=2", {"ami": 2.0}),  # a metric without dur is left out
        ("app;dur=abc, ami;dur=-1, db;dur=7", {"db": 7.0}),  # unusable durations too
        ("app;dur=1, app;dur=9", {"app": 1.0}),  # the first one wins
        ("=;;, ;dur=3,,app;dur=2", {"app": 2.0}),  # garbage up to the next comma is skipped
        ("", {}),
        (None, {}),
        (["app;dur=1", "ami;dur=2"], {"app": 1.0, "ami": 2.0}),  # two header lines
    ],
)
def test_server_timing_is_read_leniently(header: Any, parsed: dict[str, float]) -> None:
    assert parse_server_timing(header) == parsed


def test_operations_are_judged_on_app_when_the_service_sends_it() -> None:
    with_header, without = OpTimes(), OpTimes()
    for k in range(100):
        with_header.add(0.030 + k / 10000, 200, f"app;dur={1 + k / 100}, ami;dur={25 + k / 10}")
        without.add(0.030 + k / 10000, 200 if k else 503, None)
    f = with_header.figures()
    assert f["count"] == 100 and f["errors"] == 0 and f["p99_ms"] == pytest.approx(39.8)
    assert f["app"]["p99_ms"] == pytest.approx(1.98) and f["ami"]["p50_ms"] == pytest.approx(29.9)
    assert judged(f) == (f["app"]["p99_ms"], "app") and op_met(f)  # 40 ms in all, 2 ms of our own
    row = op_row(f)
    assert row["judged_on"] == "app" and row["ami_p99_ms"] == f["ami"]["p99_ms"]
    g = without.figures()
    assert "app" not in g and judged(g) == (g["p99_ms"], "total") and g["errors"] == 1
    assert not op_met(g)


def test_the_seed_grows_in_proportion() -> None:
    sizes = {users: FULL.at_size(users) for users in FULL.sizes}
    assert FULL.sizes == (1_000, 10_000, 100_000) and FULL.repeats == 3 and FULL.repeated is None
    for users, p in sizes.items():
        assert p.users == users and p.big_org_users == 1_000  # presence of 1,000 users at every size
        assert users_per_org(p)[0] == 1_000 and sum(users_per_org(p)) == users
        assert p.contacts == 10 * users and p.caller_list_rows == 10 * users and p.groups == users // 10
        assert p.fanout_clients == 1_000
    assert [p.organizations for p in sizes.values()] == [1, 91, 991]
    assert set(users_per_org(sizes[100_000])[1:]) == {100}
    smoke = SMOKE.at_size(SMOKE.sizes[0])
    assert len(SMOKE.sizes) == 1 and smoke.organizations == 3 and sum(users_per_org(smoke)) == 60


def _result(status: str, p99: float, count: int, routes: dict[str, int]) -> Result:
    r = Result("agi_latency", "goal", {"at_rate": {"p99_ms": p99, "count": count, "outcomes": routes}})
    r.status = status  # type: ignore[assignment]
    r.load_before, r.load_after = [1.0, 1.0, 1.0], [2.0, 1.5, 1.0]
    return r


def test_repeats_give_medians_spreads_and_a_majority_verdict() -> None:
    results = [
        _result("met", 1.5, 100, {"routed": 100}),
        _result("missed", 9.0, 100, {"routed": 99, "timeout": 1}),
        _result("met", 1.9, 101, {"routed": 101}),
    ]
    m = combine(results)
    assert m["status"] == "met" and m["runs"] == 3  # 2 of 3: the median met the goal
    assert m["figures"]["at_rate"] == {"p99_ms": 1.9, "count": 100, "outcomes": {"routed": 100, "timeout": 1}}
    assert m["spread"]["at_rate"]["p99_ms"] == [1.5, 9.0]
    assert [r["load_average_after"] for r in m["repeats"]] == [[2.0, 1.5, 1.0]] * 3
    assert median_of([2, 3]) == 2.5 and median_of([4, 4]) == 4 and isinstance(median_of([4, 4]), int)
    assert median_of([[1], [2]]) == [1] and median_of(["x", None]) == "x" and median_of([True, False]) is True
    assert verdict(["met", "missed", "missed"]) == "missed" and verdict(["met", "failed", "met"]) == "failed"
    assert verdict(["info", "info"]) == "info" and verdict(["not yet"]) == "not yet"


def _doc(values: dict[int, float]) -> dict[str, Any]:
    def size(users: int, p50: float) -> dict[str, Any]:
        fig = {"at_rate": {"server": {"p50_ms": p50, "p99_ms": 2 * p50}, "client": {"p99_ms": 3 * p50}}}
        api = {
            "presence": {"requests_per_s": 3000.0},
            "ops": {"park": {"judged_p99_ms": 15.0}, "hold": {"judged_p99_ms": 9.0}},
        }
        return {
            "users": users,
            "measurements": [
                {
                    "name": "agi_latency",
                    "goal": "g",
                    "status": "met",
                    "runs": 3,
                    "figures": fig,
                    "spread": {"at_rate": {"server": {"p50_ms": [p50 * 0.9, p50 * 1.2]}}},
                    "notes": [],
                },
                {
                    "name": "api_latency",
                    "goal": "g",
                    "status": "missed",
                    "runs": 1,
                    "figures": api,
                    "spread": None,
                    "notes": [],
                },
            ],
        }

    sizes = [size(users, p50) for users, p50 in values.items()]
    return document(sizes, {"mode": "full", "repeats": 3})


def test_the_goals_the_flatness_and_the_table() -> None:
    doc = _doc({1_000: 1.0, 10_000: 1.1, 100_000: 1.5})
    goals = {g["name"]: g for g in doc["goals"]}
    assert goals["agi_latency"]["verdict"] == "met" and goals["api_latency"]["verdict"] == "missed"
    assert goals["agi_latency"]["verdicts"] == [(1_000, "met"), (10_000, "met"), (100_000, "met")]
    flat = {f["label"]: f for f in doc["flat"]}
    assert flat["routing decision (AGI server p50)"]["verdict"] == "missed"  # x1.5 > x1.25
    assert flat["routing decision (AGI server p50)"]["worse_by"] == 1.5
    assert flat["presence throughput"]["verdict"] == "met"
    text = table(doc)
    assert "== 100,000 users" in text and "server p50 1.5 [1.35..1.8]" in text
    assert "flat: routing decision (AGI server p50)" in text and "missed" in text


def test_the_chart_is_a_png_of_every_size(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    assert draw(_doc({1_000: 1.0, 10_000: 1.1, 100_000: 1.2}), out) == str(out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_memory_counts_a_task_sharing_its_parents_memory_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vfork child before its exec shares the parent's memory (VmRSS the same): a thread of this
    process stands in for it. A child with memory of its own is counted."""
    import os
    import subprocess
    import threading

    from bench import memory

    started, stop = threading.Event(), threading.Event()
    tid: list[int] = []

    def run() -> None:
        tid.append(threading.get_native_id())
        started.set()
        stop.wait(10)

    thread = threading.Thread(target=run)
    thread.start()
    started.wait(5)
    child = subprocess.Popen(["sleep", "5"])
    try:
        # Popen returns once the exec has begun; its arguments appear when the program is loaded.
        deadline = time.monotonic() + 5
        while not Path(f"/proc/{child.pid}/cmdline").read_bytes() and time.monotonic() < deadline:
            time.sleep(0.01)
        me = os.getpid()
        assert memory.same_address_space(me, tid[0])
        assert not memory.same_address_space(me, child.pid)
        own = memory.rss_by_process(me)["service"]
        monkeypatch.setattr(memory, "_children", lambda pid: [tid[0], child.pid] if pid == me else [])
        counted = memory.rss_by_process(me)
        assert set(counted) == {"service", "sleep"}, counted
        assert counted["service"] < own * 1.5  # not twice
    finally:
        stop.set()
        thread.join()
        child.kill()
        child.wait()


async def test_paced_clients_take_fixed_turns_and_a_late_one_acts_at_once() -> None:
    """bench/pace.py: 4 clients at 0.2 s are spread 50 ms apart; a client whose answer took longer
    than its interval does not wait for its next turn (the load does not wait for the service)."""
    pace = Pace(4, 0.2)
    turns = [pace.turns(n) for n in range(4)]
    starts = []
    for t in turns:
        await t.next()
        starts.append(time.perf_counter() - pace.started)
    assert starts == pytest.approx([0.0, 0.05, 0.1, 0.15], abs=0.02)
    late = turns[0]
    await asyncio.sleep(0.3)  # its answer took 0.3 s (until 0.45 s): the turns at 0.2 and 0.4 s missed
    before = time.perf_counter()
    await late.next()
    await late.next()
    assert time.perf_counter() - before < 0.02 and late.taken == 3
    await late.next()  # back on schedule: the turn at 0.6 s
    assert time.perf_counter() - pace.started == pytest.approx(0.6, abs=0.03)
    back_to_back = Pace(3, 0).turns(2)
    before = time.perf_counter()
    for _ in range(100):
        await back_to_back.next()
    assert time.perf_counter() - before < 0.05


def test_cpu_per_call_by_process_and_what_routing_adds() -> None:
    before = {"asterisk": 10.0, "service": 5.0, "fastagi": 2.0, "postgres": 1.0}
    after = {"asterisk": 12.0, "service": 5.5, "fastagi": 2.5, "postgres": 1.25}
    assert cpu.ms_per_call(before, after, 100) == {
        "asterisk": 20.0, "service": 5.0, "fastagi": 5.0, "postgres": 2.5, "total": 32.5,
    }  # fmt: skip
    assert cpu.ms_per_call(before, after, 0) == {}
    now = cpu.snapshot(os.getpid())
    assert set(now) == set(cpu.GROUPS) and now["service"] > 0  # this process stands in for the service
    bare = {"asterisk": 20.0, "total": 20.0}
    steps = [
        {"path": "bare", "rate": 50, "failed": 0, "cpu_ms_per_call": bare},
        {"path": "routed", "rate": 50, "failed": 0, "cpu_ms_per_call": {"asterisk": 22.5, "total": 26.0}},
        {"path": "bare", "rate": 90, "failed": 0, "cpu_ms_per_call": bare},
        {"path": "routed", "rate": 90, "failed": 3, "cpu_ms_per_call": {"asterisk": 30.0, "total": 40.0}},
    ]
    compared = cps._cpu_compared(steps)
    assert compared["rate"] == 50  # the highest rate both paths ran clean
    assert compared["routing_adds"] == {"asterisk": 2.5, "total": 6.0}
    assert cps._cpu_compared(steps[2:]) == {}
