"""Counted proof (issue 13): the whole HTTP API fuzzed from its own OpenAPI document.

schemathesis generates requests from GET /api/v1/openapi.json (valid ones and, for the negative
half, ones that break the schema); they are sent to the composed app on a real PostgreSQL as an
organization admin and as a plain user. Findings: a 5xx, a dropped connection, a 4xx without
{"error": {"code", "message"}}, a success status the document does not list, a success body that
does not match the documented response. The test prints cases tried and findings and fails on any.
PBX_FUZZ_CASES sets the cases per role and mode (default 600: about 2,400 requests, a minute).
"""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp
import pytest
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import TypeAdapter, ValidationError
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET

from pbx_control.api.app import PREFIX
from pbx_control.service import operations
from pbx_control.testing import World, bearer, login

pytestmark = [pytest.mark.integration, pytest.mark.api, pytest.mark.security]
CASES = int(os.environ.get("PBX_FUZZ_CASES", "600"))
# These end the session or change the password the fuzzer logs in with; they are proven in
# test_api_auth.py / test_api_login_security.py. The WebSocket has its own tests.
SKIP = {
    ("POST", "/auth/logout"),
    ("POST", "/auth/logout-all"),
    ("POST", "/users/me/password"),
    ("GET", "/events"),
}


def _generate(doc: dict[str, Any], mode: GenerationMode, n: int) -> list[Any]:
    schema = schemathesis.openapi.from_dict(doc)
    cases: list[Any] = []

    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(schema.as_strategy(generation_mode=mode))
    def collect(case: Any) -> None:
        cases.append(case)

    collect()
    return cases


def _query(query: dict[str, Any] | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in (query or {}).items():
        for v in value if isinstance(value, list) else [value]:
            if v is not None:
                out.append((str(key), str(v).lower() if isinstance(v, bool) else str(v)))
    return out


@pytest.mark.timeout(600)
async def test_fuzz_the_api_from_its_openapi_document(client: TestClient, world: World) -> None:
    doc = await (await client.get(PREFIX + "/openapi.json")).json()
    ops = {(o.method, PREFIX + o.path): o for o in operations()}
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert documented == set(ops), "the document lists exactly the routes the app serves"

    findings: list[tuple[object, ...]]  # who, mode, operation, then what was wrong
    tried, unsendable, findings = 0, 0, []
    for who in ("alpha-admin", "alpha-user"):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for case in _generate(doc, mode, CASES):
                key = (case.method.upper(), case.operation.path)
                if (key[0], key[1].removeprefix(PREFIX)) in SKIP:
                    continue
                op = ops[key]
                token = await login(client, who)  # fresh each time: a case may have removed the user
                headers = {k: str(v) for k, v in (case.headers or {}).items()}
                headers.update(bearer(token))
                kwargs: dict[str, Any] = {}
                if case.body is not NOT_SET:
                    if isinstance(case.body, bytes):
                        kwargs["data"] = case.body
                        headers.setdefault("Content-Type", case.media_type or "application/json")
                    else:
                        kwargs["json"] = case.body
                try:
                    resp = await client.request(
                        key[0], case.formatted_path, params=_query(case.query), headers=headers, **kwargs
                    )
                    status, text = resp.status, await resp.text()
                except (ValueError, TypeError, aiohttp.InvalidURL, aiohttp.ClientConnectorError):
                    unsendable += 1  # the client refused to build it (e.g. a header with a newline)
                    continue
                except aiohttp.ClientError as e:
                    findings.append((who, mode.value, key, "connection", repr(e)))
                    continue
                tried += 1
                problem = _check(op, status, resp.content_type, text)
                if problem:
                    findings.append((who, mode.value, key, status, problem, repr(case.body)[:200]))
    print(f"api fuzz: {tried} requests, {unsendable} not sendable, {len(findings)} findings")
    for f in findings[:60]:
        print("finding:", f)
    assert tried >= CASES, "the fuzzer sent too few requests to prove anything"
    assert not findings, findings[:30]


def _check(op: Any, status: int, content_type: str, text: str) -> str | None:
    if status == 503 and op.tag == "calls" and '"call_control_unavailable"' in text:
        return None  # no AMI bridge in this app: call control is fuzzed for the error body only
    if status >= 500:
        return "server error: " + text[:200]
    if 400 <= status < 500:
        try:
            error = json.loads(text)["error"]
        except (ValueError, KeyError, TypeError):
            return "4xx without the JSON error body: " + text[:200]
        return None if isinstance(error, dict) and {"code", "message"} <= set(error) else "bad error body"
    if status not in (op.status, *op.also):
        return f"undocumented success status {status}"
    if op.response is not None and content_type == "application/json":
        try:
            TypeAdapter(op.response).validate_json(text)
        except ValidationError as e:
            return "success body does not match the document: " + str(e)[:300]
    return None
