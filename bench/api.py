"""api_latency: queue login (with its AMI round trip), park, transfer, hold, click-to-call, history
and GET /presence, from 50 clients. The operations come at the pace of 50 busy operators, each
acting once a second (bench/pace.py); presence and the baseline are wrk's, back to back.

Every feature is looked up in the running service's OpenAPI document first; a missing one is
reported as not available instead of a number. GET /users/me is measured too, as the API's own
baseline (token lookup plus three small queries).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from typing import Any

import aiohttp

from bench import callcontrol, history_query
from bench.env import BenchEnv
from bench.http_load import wrk_get
from bench.pace import Pace
from bench.params import Params
from bench.results import Result
from bench.seed import FIRST_EXTENSION, Seeded
from bench.timing import OpTimes, op_met, op_row

GOAL = (
    "p99 <= 20 ms of every operation (Server-Timing app when sent), 50 clients at one a second each;"
    " presence >= 2,000 requests/s"
)
LOGIN_PATH = re.compile(r"/groups/\{group_id\}/(.*/)?log(in|ged_in)$")


def openapi(env: BenchEnv) -> dict[str, Any]:
    with urllib.request.urlopen(f"{env.control.api}/openapi.json", timeout=5) as r:  # noqa: S310
        return dict(json.loads(r.read()))


def find(doc: dict[str, Any], pattern: re.Pattern[str], methods: tuple[str, ...]) -> tuple[str, str] | None:
    for path, ops in doc.get("paths", {}).items():
        if pattern.search(path):
            for method in methods:
                if method in ops:
                    return method, path
    return None


def _login_body(doc: dict[str, Any], method: str, path: str, on: bool) -> dict[str, Any]:
    """A body for the login operation: its boolean property set to `on`, if it has one."""
    schema = doc["paths"][path][method].get("requestBody", {}).get("content", {})
    schema = schema.get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = doc["components"]["schemas"].get(schema["$ref"].rsplit("/", 1)[-1], {})
    for name, prop in schema.get("properties", {}).items():
        if prop.get("type") == "boolean":
            return {name: on}
    return {}


async def _queue_login_load(
    base: str, doc: dict[str, Any], op: tuple[str, str], seeded: Seeded, p: Params
) -> dict[str, Any]:
    """Each client logs one member in and out of one group, one request per turn, for the duration."""
    method, path = op
    has_delete = "delete" in doc["paths"][path]
    logout = path.replace("login", "logout")
    has_logout = logout != path and method in doc["paths"].get(logout, {})
    members = seeded.group_members[: p.api_clients]
    times = {"login": OpTimes(), "logout": OpTimes()}
    deadline = time.perf_counter() + p.api_duration_s
    pace = Pace(len(members), p.api_pace_s)

    async def client(http: aiohttp.ClientSession, n: int, group_id: int, user_id: int, ext: int) -> None:
        def url(p: str) -> str:
            return base + p.replace("{group_id}", str(group_id)).replace("{user_id}", str(user_id))

        headers = {"Authorization": f"Bearer {seeded.tokens[ext]}"}
        on = True
        turns = pace.turns(n)
        while True:  # log in, log out, log in...
            await turns.next()
            if time.perf_counter() >= deadline:
                break
            verb = method if on or not has_delete else "delete"
            target = url(logout if not on and has_logout else path)
            body = _login_body(doc, method, path, on) if verb != "delete" else None
            started = time.perf_counter()
            async with http.request(verb.upper(), target, json=body, headers=headers) as resp:
                await resp.read()
                timing = resp.headers.getall("Server-Timing", None)
            times["login" if on else "logout"].add(time.perf_counter() - started, resp.status, timing)
            on = not on

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        await asyncio.gather(*(client(http, n, g, u, e) for n, (g, u, e) in enumerate(members)))
    return {name: t.figures() | pace.describe() for name, t in times.items()}


def login_requests(doc: dict[str, Any], op: tuple[str, str], seeded: Seeded, count: int) -> list[Any]:
    """[method, url path, body, token] of a login then a logout for each of `count` members (the
    mixed load's answer-group operations)."""
    method, path = op
    has_delete = "delete" in doc["paths"][path]
    logout = path.replace("login", "logout")
    has_logout = logout != path and method in doc["paths"].get(logout, {})
    out: list[Any] = []
    for group_id, user_id, ext in seeded.group_members[:count]:

        def url(p: str, g: int = group_id, u: int = user_id) -> str:
            return p.replace("{group_id}", str(g)).replace("{user_id}", str(u))

        token = seeded.tokens[ext]
        out.append([method.upper(), url(path), _login_body(doc, method, path, True), token])
        verb = method if not has_delete else "delete"
        body = _login_body(doc, method, path, False) if verb != "delete" else None
        out.append([verb.upper(), url(logout if has_logout else path), body, token])
    return out


def operations(figures: dict[str, Any]) -> dict[str, Any]:
    """Every operation's figures by a short name (the goal's list), those that were measured."""
    ops: dict[str, Any] = {}
    for name in ("presence", "queue_login", "queue_logout", "park", "transfer", "hold", "resume", "click"):
        if isinstance(figures.get(name), dict):
            ops[name] = figures[name]
    announced = figures.get("announced")
    if isinstance(announced, dict):
        ops |= {f"announced_{k}": announced[k] for k in ("start", "complete") if k in announced}
    history = figures.get("history")
    if isinstance(history, dict):
        ops |= {f"history_{k}": history[k] for k in ("all", "missed", "page_11") if k in history}
    return ops


def run(env: BenchEnv, p: Params, seeded: Seeded) -> Result:
    result = Result("api_latency", GOAL)
    doc = openapi(env)
    base = env.control.api.removesuffix("/api/v1")
    token = seeded.tokens[FIRST_EXTENSION + 1]
    # the operations' clients and their pace (presence and the baseline: wrk, back to back)
    figures: dict[str, Any] = {"pace": Pace(p.api_clients, p.api_pace_s).describe()}
    met: list[bool] = []

    if find(doc, re.compile(r"^/api/v1/presence$"), ("get",)):
        wrk_get(f"{env.control.api}/presence", token, p.api_clients, 1)  # warm up
        with env.profiling("api_latency:presence"):
            presence = wrk_get(f"{env.control.api}/presence", token, p.api_clients, p.api_duration_s)
        figures["presence"] = presence | {"organization_users": seeded.sizes[0]}
        met.append(op_met(presence) and presence.get("requests_per_s", 0) >= 2000)
    else:
        figures["presence"] = "not yet: no GET /api/v1/presence"

    login = find(doc, LOGIN_PATH, ("post", "put", "patch"))
    if login is None:
        figures["queue_login"] = "not yet: no answer group login endpoint"
    elif not seeded.group_members:
        figures["queue_login"] = f"not measured: groups not seeded ({seeded.counts.get('groups')})"
    else:
        with env.profiling("api_latency:queue_login"):
            q = asyncio.run(_queue_login_load(base, doc, login, seeded, p))
        figures["queue_login"] = q["login"] | {"endpoint": f"{login[0].upper()} {login[1]}"}
        figures["queue_logout"] = q["logout"]
        met += [op_met(q["login"]), op_met(q["logout"])]

    has_park = find(doc, re.compile(r"^/api/v1/calls/park$"), ("post",)) is not None
    has_transfer = find(doc, re.compile(r"^/api/v1/calls/transfer$"), ("post",)) is not None
    if has_park and has_transfer:
        with env.profiling("api_latency:park_transfer"):
            live = callcontrol.run(env, p, seeded)
        figures["live_calls"] = live["live_calls"]
        for name in ("park", "transfer", "hold", "resume", "click"):
            figures[name] = live[name]
            met.append(op_met(live[name]) and "errors" in live[name])
        figures["announced"] = live["announced"]
        for name in ("start", "complete"):  # the API's own work; the waits on phones are apart
            met.append(op_met(live["announced"][name]) and "errors" in live["announced"][name])
    else:
        figures["park"] = "feature not available" if not has_park else "not measured without transfer"
        figures["transfer"] = "feature not available" if not has_transfer else "not measured without park"

    if find(doc, re.compile(r"^/api/v1/users/me/history$"), ("get",)):
        with env.profiling("api_latency:history"):
            history = history_query.run(env, p, seeded)
        figures["history"] = history
        for name in ("all", "missed", "page_11"):
            if name in history:
                met.append(op_met(history[name]))

    with env.profiling("api_latency:users_me"):
        me = wrk_get(f"{env.control.api}/users/me", token, p.api_clients, p.api_duration_s)
    figures["baseline_users_me"] = me
    figures["ops"] = {name: op_row(fig) for name, fig in operations(figures).items()}
    result.figures = figures
    if not met:
        result.status = "not yet"
        result.notes.append("no measured feature exists yet; baseline GET /users/me shown for scale")
        return result
    return result.judge(None if p.smoke else all(met))
