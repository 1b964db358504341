"""A small synchronous client of our HTTP API for end-to-end tests (urllib: no event loop needed)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


class ApiError(AssertionError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class Api:
    base: str
    token: str | None = None
    last_status: int = field(default=0, init=False)

    def request(
        self, method: str, path: str, body: Any = None, *, expect: int | None = None, check: bool = True
    ) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)  # noqa: S310
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:  # noqa: S310
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        self.last_status = status
        payload = json.loads(raw) if raw else None
        if expect is not None and status != expect:
            raise ApiError(status, payload)
        if expect is None and check and status >= 400:
            raise ApiError(status, payload)
        return payload

    def login(self, username: str, password: str) -> Api:
        r = self.request("POST", "/auth/login", {"username": username, "password": password}, expect=200)
        return Api(self.base, r["token"])

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body if body is not None else {}, **kw)
