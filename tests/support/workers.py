"""`make test` runs the suite on two pytest-xdist workers. Each worker is a session of its own with its
own PostgreSQL cluster and its own Asterisk stack, so the second worker moves its ports before anything
reads them: PBX_TEST_PORT_BASE by WORKER_PORT_OFFSET, PBX_TEST_PG_PORT by one.

The layout from a base B: services B .. B+999, Asterisk's RTP B+1000 .. B+1999, SIPp phones from
B+2000 (tests/e2e/conftest.py), B+4000 (history), B+4600 (voicemail), B+6000 (groups), B+7000 (faults
and attacks, up to ~150 phones), the `make run` test's stack at B+3000, the bench smoke at B+9000 ..
B+11199, and the phones' media 10000 above each phone (B+12000 .. B+18999). Pools that overlap
within one worker are harmless (its tests run one after the other); across workers nothing may
overlap. Hence 19000: the default base 15000 ends below 34000, where the second worker's range
(34000 .. 52999) begins."""

from __future__ import annotations

import os

WORKER_PORT_OFFSET = 19000
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
