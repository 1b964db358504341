"""wrk's figures with the service's Server-Timing read from every response (the Lua script of
bench/http_load.py), against a small aiohttp server that sends the header; and plain wrk when the
header is absent (main before the service sends it)."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench.http_load import wrk_get

pytestmark = [pytest.mark.bench, pytest.mark.timeout(60)]


async def _server(timing: bool) -> TestServer:
    seen = {"n": 0}

    async def handler(request: web.Request) -> web.Response:
        seen["n"] += 1
        # every tenth answer says the service worked 9 ms, the others 1 ms; Asterisk took 5 ms
        app = 9.0 if seen["n"] % 10 == 0 else 1.0
        headers = {"Server-Timing": f'app;dur={app}, ami;dur=5;desc="wait, on Asterisk"'} if timing else {}
        assert request.headers["Authorization"] == "Bearer tok"
        return web.json_response({"ok": True}, headers=headers)

    app = web.Application()
    app.router.add_get("/x", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_wrk_reads_server_timing_from_every_response() -> None:
    server = await _server(timing=True)
    try:
        f = await asyncio.to_thread(wrk_get, str(server.make_url("/x")), "tok", 4, 1, 1)
    finally:
        await server.close()
    assert f["errors"] == 0 and f["requests"] > 100, f
    # every response was read (wrk counts the probe apart) and the tenth-slowest share shows
    assert f["server_timing_responses"] >= f["requests"] and f["app"]["count"] == f["server_timing_responses"]
    assert f["app"]["p50_ms"] == 1.0 and f["app"]["p99_ms"] == 9.0 and f["app"]["max_ms"] == 9.0
    assert f["ami"]["p50_ms"] == 5.0


async def test_without_the_header_wrk_runs_plain() -> None:
    server = await _server(timing=False)
    try:
        f = await asyncio.to_thread(wrk_get, str(server.make_url("/x")), "tok", 4, 1, 1)
    finally:
        await server.close()
    assert f["errors"] == 0 and f["requests"] > 100
    assert "app" not in f and "server_timing_responses" not in f
