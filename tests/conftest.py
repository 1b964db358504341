"""Shared fixtures: a private PostgreSQL cluster for the whole session, a fresh database per test,
and the clock the code under test is built with.

The session stops every process it started (tests/support/leftovers.py checks it at the end).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import structlog

from pbx_control.config import Settings
from pbx_control.db.migrate import migrate
from pbx_control.runtime.postgres import PrivateCluster
from tests.support.clock import DEFAULT, INSTANTS, FixedClock, Instant
from tests.support.workers import WORKER_SUFFIX  # moves a second worker's ports: before anything reads them

pytest_plugins = ["tests.support.leftovers", "tests.support.counted"]

# Services started inside the test process log with structlog's default console renderer, but
# with plain tracebacks: rich's (with every frame's locals), rendered inside the event loop, held
# a request long enough to push a 503 past its one-second bound (test_api_database_down).
# Production processes log JSON lines and never load rich (pbx_control/kernel/entry.py).
structlog.configure(
    processors=[
        *structlog.get_config()["processors"][:-1],
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
    ]
)
_LOG_CONFIG = structlog.get_config()


@pytest.fixture(autouse=True)
def _test_logging() -> Iterator[None]:
    """A test that configures structlog its own way (JSON lines, a capture) gets this configuration
    back afterwards, so a later test's service never renders rich tracebacks."""
    yield
    if structlog.get_config() != _LOG_CONFIG:
        structlog.reset_defaults()
        structlog.configure(**_LOG_CONFIG)


STATE_DIR = Path(os.environ.get("PBX_STATE_DIR", "/var/lib/pbx-control"))
TEST_PG_PORT = int(os.environ.get("PBX_TEST_PG_PORT", "55433"))
# bcrypt at its lowest cost: tests log in often and prove nothing by being slow.
os.environ.setdefault("PBX_BCRYPT_ROUNDS", "4")
TEMPLATE_DB = f"pbx_template_{os.getpid()}"
_db_counter = itertools.count()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("unit") and "pg_cluster" in getattr(item, "fixturenames", ()):
        pytest.fail("a unit test must not need PostgreSQL (make test-unit runs without it)", pytrace=False)


@pytest.fixture(params=INSTANTS, ids=[i.name for i in INSTANTS])
def fixed_clock(request: pytest.FixtureRequest) -> FixedClock:
    """A test that asks for this runs once at each instant of tests.support.clock (23:59 local, both
    sides of both daylight saving switches, New Year's Eve, a Friday evening...); `.instant` holds
    what the product must say then."""
    instant: Instant = request.param
    return FixedClock(instant)


@pytest.fixture
def clock(request: pytest.FixtureRequest) -> FixedClock:
    """The clock the API app, FastAGI handlers and prompt worker of a test are built with: the
    test's fixed_clock when it asks for one, else the default instant (never the wall clock)."""
    if "fixed_clock" in request.fixturenames:
        return request.getfixturevalue("fixed_clock")
    return FixedClock(DEFAULT)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PrivateCluster]:
    """The tests' cluster, stopped at the end if this session started it (one already running,
    e.g. another suite's on the same state dir and port, is left running)."""
    from tests.support.leftovers import expect_gone  # loaded (and assert-rewritten) as a plugin

    cluster = PrivateCluster(STATE_DIR / f"pg-test{WORKER_SUFFIX}", TEST_PG_PORT, Settings.from_env().pg_bin)
    started = cluster.start()
    if started:
        expect_gone(cluster.data_dir / "postmaster.pid", "the tests' PostgreSQL cluster")
    try:
        cluster.create_database(TEMPLATE_DB, drop_first=True)

        async def _migrate() -> None:
            conn = await asyncpg.connect(cluster.url(TEMPLATE_DB))
            try:
                await migrate(conn)
            finally:
                await conn.close()

        asyncio.run(_migrate())
        yield cluster

        async def _drop_template() -> None:
            conn = await asyncpg.connect(cluster.url("postgres"))
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(_drop_template())
    finally:
        if started:
            cluster.stop()


@pytest.fixture
def db_url(pg_cluster: PrivateCluster) -> Iterator[str]:
    """A freshly migrated database of its own for one test (copied from the migrated template)."""
    name = f"pbx_t{os.getpid()}_{next(_db_counter)}"

    async def _create() -> None:
        conn = await asyncpg.connect(pg_cluster.url("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        finally:
            await conn.close()

    async def _drop() -> None:
        conn = await asyncpg.connect(pg_cluster.url("postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(_create())
    yield pg_cluster.url(name)
    asyncio.run(_drop())


@pytest.fixture
async def db_pool(db_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=4)
    assert pool is not None
    yield pool
    await pool.close()
