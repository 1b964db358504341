"""`make test` runs the suite on two pytest-xdist workers. Each worker is a session of its own with its
own PostgreSQL cluster and its own Asterisk stack, so the second worker moves its ports before anything
reads them: PBX_TEST_PORT_BASE by WORKER_PORT_OFFSET, PBX_TEST_PG_PORT by one.

Why 18000: a base B uses B .. B+7000 (services, phones) and B+12000 .. B+17500 (the phones' media); the
default base 15000 thus ends at 32500, and 33000 .. 50500 is free for the second worker."""

from __future__ import annotations

import os

WORKER_PORT_OFFSET = 18000
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # gw0, gw1 ... under xdist, else unset
WORKER_INDEX = int(_worker[2:]) if _worker.startswith("gw") else 0
if WORKER_INDEX > 1:
    raise RuntimeError("the test ports are laid out for at most two workers (pytest -n 2)")
WORKER_SUFFIX = f"-{_worker}" if WORKER_INDEX else ""

if WORKER_INDEX and not os.environ.get("_PBX_TEST_PORTS_MOVED"):
    base = int(os.environ.get("PBX_TEST_PORT_BASE", "15000"))
    os.environ["PBX_TEST_PORT_BASE"] = str(base + WORKER_PORT_OFFSET)
    os.environ["PBX_TEST_PG_PORT"] = str(int(os.environ.get("PBX_TEST_PG_PORT", "55433")) + WORKER_INDEX)
    os.environ["_PBX_TEST_PORTS_MOVED"] = "1"
